package companion

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/proc"
)

// Query limits.
const (
	MaxCount    = 60    // count: history entries
	MaxInterval = 60    // interval: seconds between entries; count × interval ≤ MaxWindow
	MaxWindow   = 60    // seconds of history (MaxSamples - 1)
	MaxLimit    = 10000 // limit: processes per entry with sort
)

// Entry is one history entry of the companion's answer.
type Entry struct {
	Timestamp string    `json:"timestamp"` // RFC 3339 with nanoseconds, UTC
	Processes []Process `json:"processes"`
}

// Process is one process of an Entry, in the companion's shape.
type Process struct {
	Status  proc.CompanionStatus `json:"status"`
	Stat    *proc.Stat           `json:"stat"`
	Cmdline string               `json:"cmdline"`
	// RelativeCPUUsage is CPU % over the interval before the entry (100 =
	// one CPU, model.ProcessCPU); 0 for a process not in the sample
	// interval seconds earlier.
	RelativeCPUUsage float64 `json:"relativecpuusage"`
	Cgroup           string  `json:"cgroup"`
}

// query is a checked query string.
type query struct {
	count, interval int
	sort            string // "", model.SortProcessesCPU or model.SortProcessesMem
	limit           int    // with sort only
}

const queryHelp = "count (1..60, default 1), interval (seconds, 1..60, default 1; count×interval ≤ 60), sort (cpu or mem), limit (1..10000, default 1, only with sort)"

func parseQuery(raw string) (query, error) {
	q := query{count: 1, interval: 1, limit: 1}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, fmt.Errorf("bad query string: %v; allowed: %s", err, queryHelp)
	}
	integer := func(key string, v string, hi int) (int, error) {
		n := 0
		if v == "" || len(v) > 6 {
			return 0, fmt.Errorf("%s=%q: want an integer from 1 to %d", key, v, hi)
		}
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, fmt.Errorf("%s=%q: want an integer from 1 to %d", key, v, hi)
			}
		}
		n, _ = strconv.Atoi(v)
		if n < 1 || n > hi {
			return 0, fmt.Errorf("%s=%q: want an integer from 1 to %d", key, v, hi)
		}
		return n, nil
	}
	hasLimit := false
	for key, vs := range vals {
		if len(vs) != 1 {
			return q, fmt.Errorf("%s is given %d times; allowed once each: %s", key, len(vs), queryHelp)
		}
		v := vs[0]
		switch key {
		case "count":
			q.count, err = integer(key, v, MaxCount)
		case "interval":
			q.interval, err = integer(key, v, MaxInterval)
		case "limit":
			q.limit, err = integer(key, v, MaxLimit)
			hasLimit = true
		case "sort":
			if v != model.SortProcessesCPU && v != model.SortProcessesMem {
				err = fmt.Errorf("sort=%q: want cpu or mem", v)
			}
			q.sort = v
		default:
			err = fmt.Errorf("unknown query parameter %q; allowed: %s", key, queryHelp)
		}
		if err != nil {
			return q, err
		}
	}
	if hasLimit && q.sort == "" {
		return q, errors.New("limit works only with sort=cpu or sort=mem")
	}
	if q.count*q.interval > MaxWindow {
		return q, fmt.Errorf("count×interval = %d×%d s: the history holds %d s; want count×interval ≤ %d", q.count, q.interval, MaxWindow, MaxWindow)
	}
	return q, nil
}

// ServeProcesses serves GET /api/v1.0/<cgroup>/processes for a cgroup path
// the server has checked: a JSON array of count entries interval seconds
// apart, oldest first and newest last (the last count intervals), each with
// the processes of the cgroup itself (not of its subgroups) at that time.
//
// A cgroup that was not tracked yet is tracked from now on, and the request
// waits (at most count × interval + 1 s, and MaxWait) for the samples it
// needs; if they are not there by then, the entries that can be made are
// served, fewer than count. The name is resolved against the latest
// snapshot (model.Snapshot.ResolveCgroup): "/docker/ID" finds
// "/system.slice/docker-ID.scope" and the other way round.
func (h *History) ServeProcesses(w http.ResponseWriter, r *http.Request, cgroup string) {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	snap := h.snaps.Latest()
	if snap == nil {
		writeError(w, http.StatusServiceUnavailable, "no snapshot yet: the first cycle has not finished")
		return
	}
	path, err := snap.ResolveCgroup(cgroup)
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}

	t := h.request(path)
	need := q.count*q.interval + 1
	wait := min(time.Duration(q.count*q.interval)*SampleEvery+time.Second, MaxWait)
	samples, err := h.samplesOf(r.Context(), t, need, time.Now().Add(wait))
	if r.Context().Err() != nil {
		return // the client went away
	}
	// Gone at the last sampling: its history is of a cgroup that is no
	// more (the snapshot may not know yet).
	if errors.Is(err, proc.ErrNoCgroup) {
		writeError(w, http.StatusNotFound, "cgroup "+path+" is gone")
		return
	}
	if len(samples) == 0 {
		msg := "no sample of cgroup " + path + " yet"
		if err != nil {
			msg += ": " + err.Error()
		}
		writeError(w, http.StatusServiceUnavailable, msg)
		return
	}

	entries, err := build(samples, q)
	if err != nil {
		h.log.Warn("companion: processes left out", "cgroup", path, "err", err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(entries); err != nil {
		h.log.Error("companion: encode answer", "cgroup", path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error (logged by the server)")
		return
	}
	writeJSON(w, http.StatusOK, b.Bytes())
}

// build makes the entries of q from samples (oldest first, SampleEvery
// apart): the newest sample, and those interval, 2×interval… samples
// before it, each with CPU against the sample interval samples before it.
func build(samples []*proc.Sample, q query) ([]Entry, error) {
	n := len(samples)
	entries := make([]Entry, 0, q.count)
	var errs []error
	for k := q.count - 1; k >= 0; k-- {
		i := n - 1 - k*q.interval
		if i < 0 {
			continue
		}
		var prev *proc.Sample
		if j := i - q.interval; j >= 0 {
			prev = samples[j]
		}
		e, err := entry(prev, samples[i], q)
		errs = append(errs, err)
		entries = append(entries, e)
	}
	return entries, errors.Join(errs...)
}

func entry(prev, cur *proc.Sample, q query) (Entry, error) {
	before := map[int]model.ProcTimes{}
	var elapsed time.Duration
	if prev != nil {
		elapsed = cur.Time.Sub(prev.Time)
		for i := range prev.Processes {
			p := &prev.Processes[i]
			t, st := p.Times()
			before[p.PID] = model.ProcTimes{Ticks: t, StartTime: st}
		}
	}
	type row struct {
		p   *proc.Process
		cpu float64
		rss uint64
	}
	rows := make([]row, len(cur.Processes))
	for i := range cur.Processes {
		p := &cur.Processes[i]
		r := row{p: p}
		if pt, ok := before[p.PID]; ok {
			t, st := p.Times()
			if f := model.ProcessCPU(pt, model.ProcTimes{Ticks: t, StartTime: st}, elapsed); f.OK {
				r.cpu = f.V
			}
		}
		if rss, ok := p.Status.Bytes("VmRSS"); ok {
			r.rss = rss
		} else if p.Stat.Rss > 0 {
			r.rss = uint64(p.Stat.Rss) * proc.PageSize()
		}
		rows[i] = r
	}
	if q.sort != "" {
		byCPU := func(a, b row) int { return cmp.Compare(b.cpu, a.cpu) }
		byMem := func(a, b row) int { return cmp.Compare(b.rss, a.rss) }
		first, second := byCPU, byMem
		if q.sort == model.SortProcessesMem {
			first, second = byMem, byCPU
		}
		slices.SortStableFunc(rows, func(a, b row) int {
			return cmp.Or(first(a, b), second(a, b), cmp.Compare(a.p.PID, b.p.PID))
		})
		if len(rows) > q.limit {
			rows = rows[:q.limit]
		}
	}
	var errs []error
	e := Entry{Timestamp: cur.Time.UTC().Format(time.RFC3339Nano), Processes: make([]Process, 0, len(rows))}
	for _, r := range rows {
		st, err := r.p.Status.Companion()
		if err != nil {
			// A status goprocinfo could not have parsed either: the
			// process is left out rather than failing the answer.
			errs = append(errs, fmt.Errorf("pid %d: status: %w", r.p.PID, err))
			continue
		}
		e.Processes = append(e.Processes, Process{
			Status: st, Stat: &r.p.Stat, Cmdline: r.p.Cmdline,
			RelativeCPUUsage: r.cpu, Cgroup: r.p.Cgroup,
		})
	}
	return e, errors.Join(errs...)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	writeJSON(w, status, append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) // the client went away: nothing to do
}
