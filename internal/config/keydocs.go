package config

// keyDocs is the meaning of every key, with its unit, for Keys(), the
// README's table and the commented example files. TestKeysHaveDocs fails
// when a key has none.
var keyDocs = map[string]string{
	"interval":         "time between two samples, the window of every rate; at least 100ms",
	"schedule":         `cron expression to sample at instead of every interval ("*/5 * * * *"; a leading seconds field is allowed); empty: every interval`,
	"rootfs":           "directory read as the host's / (/rootfs in a container)",
	"excluded_devices": "block device name prefixes left out of the IO figures",
	"listen":           "host:port of the HTTP API and /metrics (port 0 picks a free one)",
	"listen_public":    "allow a listen address that is not loopback without TLS and authentication (web_config_file with both needs no listen_public)",
	"web_config_file":  "web configuration file of the API, as node_exporter's --web.config.file (tls_server_config, basic_auth_users, http_server_config); empty: plain HTTP, no authentication",

	"logging.log_level":        "debug, info, warning, error or critical (case-insensitive)",
	"logging.log_format":       "text or json",
	"logging.log_file":         "file to log to; empty: standard error",
	"logging.log_max_bytes":    "size in bytes at which log_file is rotated",
	"logging.log_backup_count": "rotated log files kept",

	"prometheus.enabled": "serve Prometheus metrics at /metrics on listen",

	"influxdb.enabled":            "write every snapshot to InfluxDB",
	"influxdb.url":                "server, http:// or https://; a path prefix is kept",
	"influxdb.api":                "v1 (/write, database, username, password) or v2 (/api/v2/write, org, bucket, token)",
	"influxdb.database":           "v1 database (required with v1)",
	"influxdb.username":           "v1 user",
	"influxdb.password":           "v1 password (secret)",
	"influxdb.retention_policy":   "v1 retention policy; empty: the server's default",
	"influxdb.org":                "v2 organization",
	"influxdb.bucket":             "v2 bucket (required with v2)",
	"influxdb.token":              "v2 token (secret)",
	"influxdb.precision":          "timestamp precision: s, ms, us or ns",
	"influxdb.tls_verify":         "verify the server's certificate and name (https)",
	"influxdb.ca_file":            "PEM CA bundle trusted besides the system's",
	"influxdb.timeout":            "bound of one write request",
	"influxdb.measurement":        "measurement name; empty: the host name (schema cgtop) or cgroup (native)",
	"influxdb.schema":             "cgtop (cgtop_mon's series) or native",
	"influxdb.batch_size":         "most points per write request",
	"influxdb.max_pending_points": "points kept in memory while the server is unreachable; oldest dropped beyond",
	"influxdb.spool_dir":          "keep unsent points on disk here instead of in memory; empty: none",
	"influxdb.spool_max_bytes":    "spool size limit in bytes (at least 65536); oldest dropped beyond",
	"influxdb.filter.group":       "only this base cgroup and its subgroups (cgtop_mon's GROUP); empty: all",
	"influxdb.filter.include":     "patterns (* wildcard) on the final cgroup name a cgroup must match (WHITELIST); empty: all",
	"influxdb.filter.exclude":     "patterns on the final cgroup name left out (BLACKLIST); exclude wins over include",

	"collectd.enabled":        "send container CPU and memory to collectd's network plugin",
	"collectd.server":         "host:port (UDP) of the collectd server",
	"collectd.security_level": "none, sign or encrypt: the server's SecurityLevel",
	"collectd.username":       "user of the server's AuthFile (sign, encrypt)",
	"collectd.password":       "password of the server's AuthFile (secret)",
	"collectd.memory":         "current (usage − inactive_file) or raw (usage)",
	"collectd.hostname":       "collectd's host field; empty: the watched host's name",

	"containers.enabled":     "per-container figures: network, filesystem, swap, processes, start time",
	"containers.network":     "read each container's network namespace counters",
	"containers.filesystem":  "statfs of each container's root filesystem",
	"containers.swap":        "swap figures of containers",
	"containers.workers":     "containers read at once, 1 to 256",
	"containers.retries":     "tries again of a container read that failed for a transient reason, 0 to 10",
	"containers.docker_root": "Docker's data-root, where container names are read",

	"json_export.file":        "LXC Monitor's JSON export file; empty: none",
	"json_export.max_entries": "entries kept in the export, oldest dropped beyond",
	"json_export.max_age":     "entries older than this are dropped (0 is taken as 24h)",

	"use.enabled":        "the host's USE view in every snapshot",
	"use.anomaly_window": "span of the anomaly baselines; at least 1m",

	"ssh.key_file":           "default private key of hosts; empty: the keys of ssh-agent",
	"ssh.known_hosts":        "default known_hosts file of hosts; empty: ~/.ssh/known_hosts",
	"ssh.trust_on_first_use": "default: add an unknown host's key to known_hosts instead of refusing",
	"ssh.timeout":            "default bound of one cycle of a host, connecting included",

	"hosts":                      "remote hosts read over SSH; in the environment a comma-separated list of addresses (the other fields from ssh:)",
	"hosts[].address":            "user@host:port; the current user and port 22 by default, [::1]:22 for IPv6",
	"hosts[].name":               "the host's name in snapshots and sinks; empty: the host part of address",
	"hosts[].key_file":           "private key; empty: ssh.key_file",
	"hosts[].known_hosts":        "known_hosts file; empty: ssh.known_hosts",
	"hosts[].trust_on_first_use": "unset: ssh.trust_on_first_use",
	"hosts[].timeout":            "bound of one cycle; 0: ssh.timeout",
}
