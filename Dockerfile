# cgmon in a container: one static binary on an empty image, reading the
# host through read-only mounts.
#
#   docker build -t cgmon .
#   docker run -d --name cgmon --pid=host --uts=host \
#     --volume=/:/rootfs:ro --volume=/sys:/sys:ro --volume=/var/run:/var/run:ro \
#     --publish=127.0.0.1:8801:8801 cgmon
#   curl -s http://127.0.0.1:8801/healthz
#
# --pid=host: the kernel lists a process that is not in the reader's PID
# namespace as 0 in cgroup.procs, so in a PID namespace of its own cgmon
# could name no process: the processes API, `cgmon ps` and the containers'
# process figures would fail. --uts=host: the snapshot's hostname is the
# kernel's, which is per UTS namespace even read through /rootfs/proc;
# without it, it is the container's ID. cmd/cgmon TestContainerImage runs
# this line (podman for docker).
#
# Inside the container cgmon must listen on 0.0.0.0 for the published port
# to reach it, so CMD passes --listen-public; --publish=127.0.0.1:... keeps
# the port on the host's loopback. That serves the API without TLS or
# authentication: to publish it on another address, mount a web
# configuration file (node_exporter's) and add --web-config-file FILE.
#
# cgmon reads everything through /rootfs, the host's / (docker binds it
# with its submounts): <rootfs>/proc/1/mountinfo for the cgroup mounts, the
# cgroup files under <rootfs>/sys/fs/cgroup, container names from the
# runtimes' files under <rootfs>/var/lib. The /sys and /var/run volumes are
# the cAdvisor companion's run line, kept so it works unchanged; cgmon does
# not need them. Arguments after the image name replace CMD, e.g.
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
