package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cgmon/cgmon/internal/filter"
	"github.com/cgmon/cgmon/internal/model"
)

// staleIntervals is how many intervals old the latest snapshot may be
// before /healthz reports unhealthy.
const staleIntervals = 3

// health is /healthz's answer.
type health struct {
	Status    string `json:"status"` // "ok" or "unavailable"
	Error     string `json:"error,omitempty"`
	LastCycle string `json:"last_cycle,omitempty"` // the latest snapshot's time, RFC 3339
	Cgroups   *int   `json:"cgroups,omitempty"`    // in the latest snapshot
}

// serveHealth answers 200 when a snapshot at most three intervals old is
// published, and 503 with the reason otherwise.
func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	snap := s.src.Latest()
	h := health{Status: "ok"}
	status := http.StatusOK
	if snap == nil {
		status = http.StatusServiceUnavailable
		h.Error = "no snapshot yet: the first cycle has not finished"
	} else {
		n := len(snap.Cgroups)
		h.LastCycle = snap.Timestamp.UTC().Format(time.RFC3339)
		h.Cgroups = &n
		if age := time.Since(snap.Timestamp); age > staleIntervals*s.interval {
			status = http.StatusServiceUnavailable
			h.Error = fmt.Sprintf("the latest snapshot is %s old, more than %d intervals of %s",
				age.Round(time.Second), staleIntervals, s.interval)
		}
	}
	if status != http.StatusOK {
		h.Status = "unavailable"
		if es, ok := s.src.(errorSource); ok {
			if err := es.LastError(); err != nil {
				h.Error += "; last cycle: " + err.Error()
			}
		}
		s.retryAfter(w)
	}
	writeJSON(w, status, marshal(h))
}

func (s *Server) retryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(s.interval.Round(time.Second)/time.Second))))
}

// latest returns the latest snapshot, or answers 503 and returns nil.
func (s *Server) latest(w http.ResponseWriter) *model.Snapshot {
	snap := s.src.Latest()
	if snap == nil {
		s.retryAfter(w)
		writeError(w, http.StatusServiceUnavailable, "no snapshot yet: the first cycle has not finished")
	}
	return snap
}

// serveCgroups answers the latest snapshot, byte for byte what
// `cgmon snapshot --format json` prints, optionally filtered by the query
// parameters group, include and exclude, with the CLI flags' semantics
// (include and exclude may be repeated or comma-separated).
func (s *Server) serveCgroups(w http.ResponseWriter, r *http.Request) {
	flt, err := parseFilter(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	snap := s.latest(w)
	if snap == nil {
		return
	}
	snap = flt.Apply(snap)
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	b := snap.AppendJSON((*bp)[:0])
	b = append(b, '\n')
	*bp = b
	writeJSON(w, http.StatusOK, b)
}

func parseFilter(rawQuery string) (filter.Filter, error) {
	if rawQuery == "" {
		return filter.Filter{}, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return filter.Filter{}, fmt.Errorf("bad query: %w", err)
	}
	var group string
	var include, exclude []string
	for k, vs := range q {
		switch k {
		case "group":
			if len(vs) > 1 {
				return filter.Filter{}, fmt.Errorf("query parameter group: given %d times, allowed once", len(vs))
			}
			group = vs[0]
			if err := checkDecodedPath("/" + strings.Trim(group, "/")); err != nil {
				return filter.Filter{}, fmt.Errorf("query parameter group: %w", err)
			}
		case "include":
			for _, v := range vs {
				include = append(include, filter.Split(v)...)
			}
		case "exclude":
			for _, v := range vs {
				exclude = append(exclude, filter.Split(v)...)
			}
		default:
			return filter.Filter{}, fmt.Errorf("unknown query parameter %q: allowed are group, include and exclude", k)
		}
	}
	return filter.New(group, include, exclude)
}

// cgroupsPrefix is the route of one cgroup, without its trailing slash.
const cgroupsPrefix = "/api/v1/cgroups"

// serveCgroup answers one cgroup of the latest snapshot: the object that is
// its element of "cgroups" in /api/v1/cgroups. /api/v1/cgroups/ is the root
// cgroup "/".
func (s *Server) serveCgroup(w http.ResponseWriter, r *http.Request) {
	path, err := checkPath(strings.TrimPrefix(r.URL.EscapedPath(), cgroupsPrefix))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if r.URL.RawQuery != "" {
		writeError(w, http.StatusBadRequest, "this route takes no query parameters")
		return
	}
	snap := s.latest(w)
	if snap == nil {
		return
	}
	i, ok := slices.BinarySearchFunc(snap.Cgroups, path, func(c model.Cgroup, p string) int {
		return strings.Compare(c.Path, p)
	})
	if !ok {
		writeError(w, http.StatusNotFound, "no cgroup "+path+" in the latest snapshot")
		return
	}
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	b := snap.Cgroups[i].AppendJSON((*bp)[:0])
	b = append(b, '\n')
	*bp = b
	writeJSON(w, http.StatusOK, b)
}

// companionPrefix is the cAdvisor companion's API root.
const companionPrefix = "/api/v1.0"

// serveCompanion checks /api/v1.0/<absolute cgroup name>/processes and hands
// the cgroup path to p.
func serveCompanion(w http.ResponseWriter, r *http.Request, p ProcessesHandler) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.EscapedPath(), companionPrefix), "/processes")
	if !ok {
		writeError(w, http.StatusNotFound, "no route "+r.URL.EscapedPath()+": the companion API serves /api/v1.0/<cgroup>/processes")
		return
	}
	path, err := checkPath(name)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p.ServeProcesses(w, r, path)
}
