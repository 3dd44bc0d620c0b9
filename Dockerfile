# cgmon in a container: one static binary on an empty image, reading the
# host through read-only mounts.
#
#   docker build -t cgmon .
#   docker run --volume=/:/rootfs:ro --publish=8801:8801 --detach=true --name=cadvisor-companion cgmon
#   curl -s http://127.0.0.1:8801/healthz
#
# That is cAdvisor-companion's run line, unchanged: no --pid=host, no
# --uts=host. In its own PID namespace cgmon cannot name the host's
# processes from cgroup.procs (the kernel lists them as 0 on cgroup v2 and
# leaves them out on v1), so it scans /rootfs/proc — the host's procfs, the
# volume being a recursive bind — and maps host PIDs to cgroups by
# /proc/PID/cgroup, resolving paths relative to a private cgroup namespace.
# In its own UTS namespace the kernel's hostname is the container's, so the
# snapshot's hostname comes from /rootfs/etc/hostname. --pid=host still
# makes the process listing cheaper (cgroup.procs instead of the scan) and
# --uts=host gives the kernel's hostname if it differs from /etc/hostname.
# cmd/cgmon TestContainerImage runs this line (podman for docker), once
# with --cgroupns=private.
#
# Inside the container cgmon must listen on 0.0.0.0 for the published port
# to reach it, so CMD passes --listen-public. --publish=8801:8801 publishes
# it on every address of the host, as the companion did, without TLS or
# authentication: on a network you do not trust, publish on loopback
# (--publish=127.0.0.1:8801:8801), or mount a web configuration file
# (node_exporter's) and add --web-config-file FILE.
#
# cgmon reads everything through /rootfs, the host's / (docker binds it
# with its submounts): <rootfs>/proc/1/mountinfo for the cgroup mounts, the
# cgroup files under <rootfs>/sys/fs/cgroup, container names from the
# runtimes' files under <rootfs>/var/lib, processes under <rootfs>/proc.
# Arguments after the image name replace CMD, e.g.
# `docker run --rm --volume=/:/rootfs:ro cgmon snapshot --rootfs /rootfs`.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cgmon ./cmd/cgmon

FROM scratch
COPY --from=build /out/cgmon /cgmon
EXPOSE 8801
ENTRYPOINT ["/cgmon"]
CMD ["run", "--rootfs", "/rootfs", "--listen", "0.0.0.0:8801", "--listen-public"]
