package schedule

import (
	"testing"
	"time"
)

var utc = time.UTC

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, utc)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr bool
		kind    string
	}{
		{spec: "5s", kind: "every"},
		{spec: " 1m30s ", kind: "every"},
		{spec: "0s", wantErr: true},
		{spec: "-5s", wantErr: true},
		{spec: "*/5 * * * *", kind: "cron"},
		{spec: "* * * * * *", kind: "cron"},
		{spec: "@hourly", kind: "cron"},
		{spec: "@every 30s", kind: "cron"},
		{spec: "CRON_TZ=Europe/Berlin 0 9 * * 1-5", kind: "cron"},
		{spec: "", wantErr: true},
		{spec: "* * *", wantErr: true},
		{spec: "61 * * * *", wantErr: true},
		{spec: "* * * * * * * *", wantErr: true},
		{spec: "0 0 30 2 *", wantErr: true}, // 30 February never comes
		{spec: "every five minutes", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error", tt.spec, s)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.spec, err)
			}
			_, every := s.(Every)
			if (tt.kind == "every") != every {
				t.Fatalf("Parse(%q) = %T, want %s", tt.spec, s, tt.kind)
			}
		})
	}
}

func TestCronNext(t *testing.T) {
	tests := []struct {
		spec  string
		after string
		want  []string
	}{
		{"*/5 * * * *", "2026-11-22 05:03:10", []string{"2026-11-22 05:05:00", "2026-11-22 05:10:00", "2026-11-22 05:15:00"}},
		{"*/5 * * * *", "2026-11-22 05:05:00", []string{"2026-11-22 05:10:00"}}, // strictly after
		{"* * * * * *", "2026-11-22 05:03:10", []string{"2026-11-22 05:03:11", "2026-11-22 05:03:12"}},
		{"*/20 * * * * *", "2026-11-22 05:03:10", []string{"2026-11-22 05:03:20", "2026-11-22 05:03:40", "2026-11-22 05:04:00"}},
		{"0 9 * * 1-5", "2026-11-20 10:00:00", []string{"2026-11-23 09:00:00"}}, // Friday → Monday
		{"@hourly", "2026-11-22 23:59:59", []string{"2026-11-23 00:00:00"}},
		// Day of month and day of week both restricted: either matches, as
		// in Vixie cron. 2026-11-22 is a Sunday; the 1st is the next 1st.
		{"0 0 1 * 0", "2026-11-21 12:00:00", []string{"2026-11-22 00:00:00", "2026-11-29 00:00:00", "2026-12-01 00:00:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec+"@"+tt.after, func(t *testing.T) {
			s, err := ParseCron(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got := at(tt.after)
			for _, w := range tt.want {
				got = s.Next(got)
				if !got.Equal(at(w)) {
					t.Fatalf("Next = %s, want %s", got, w)
				}
			}
		})
	}
}

func TestFollowingSkipsMissedRuns(t *testing.T) {
	cron, err := ParseCron("*/10 * * * * *")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		s           Schedule
		last, now   string
		want        string
		wantSkipped int
	}{
		{"every on time", Every(5 * time.Second), "2026-11-22 05:00:00", "2026-11-22 05:00:01", "2026-11-22 05:00:05", 0},
		{"every overran two runs", Every(5 * time.Second), "2026-11-22 05:00:00", "2026-11-22 05:00:12", "2026-11-22 05:00:15", 2},
		{"every exactly at a run", Every(5 * time.Second), "2026-11-22 05:00:00", "2026-11-22 05:00:05", "2026-11-22 05:00:10", 1},
		{"every after a suspend", Every(time.Second), "2026-11-22 05:00:00", "2026-11-23 05:00:00.5", "2026-11-23 05:00:01", 86400},
		{"cron on time", cron, "2026-11-22 05:00:00", "2026-11-22 05:00:03", "2026-11-22 05:00:10", 0},
		{"cron overran", cron, "2026-11-22 05:00:00", "2026-11-22 05:00:25", "2026-11-22 05:00:30", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now, err := time.ParseInLocation("2006-01-02 15:04:05.999", tt.now, utc)
			if err != nil {
				t.Fatal(err)
			}
			got, skipped := Following(tt.s, at(tt.last), now)
			if !got.Equal(at(tt.want)) || skipped != tt.wantSkipped {
				t.Fatalf("Following = %s, %d skipped; want %s, %d", got, skipped, tt.want, tt.wantSkipped)
			}
		})
	}
}

func TestMinGap(t *testing.T) {
	for spec, want := range map[string]time.Duration{
		"5s":             5 * time.Second,
		"*/5 * * * *":    5 * time.Minute,
		"* * * * * *":    time.Second,
		"0,10 * * * *":   10 * time.Minute,
		"*/15 * * * * *": 15 * time.Second,
	} {
		s, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := MinGap(s, at("2026-11-22 05:00:00")); got != want {
			t.Errorf("MinGap(%q) = %s, want %s", spec, got, want)
		}
	}
}
