package config

import "strings"

// TEMPORARY: replaced by the loaders of the config branch.

type Sources struct {
	File string
	Env  []string
}

type Warning struct{ Msg string }

func (w Warning) String() string { return w.Msg }

func Load(src Sources) (Config, []Warning, error) {
	c := Defaults()
	for _, kv := range src.Env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "CGMON_INFLUXDB_PASSWORD":
			c.InfluxDB.Password = v
		case "CGMON_INFLUXDB_TOKEN":
			c.InfluxDB.Token = v
		case "CGMON_COLLECTD_PASSWORD":
			c.Collectd.Password = v
		}
	}
	return c, nil, c.Validate()
}
