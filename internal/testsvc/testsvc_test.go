package testsvc

import (
	"net"
	"net/http"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestStartServeAndStop(t *testing.T) {
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	py := LookPath(t, "python3", "python3")
	p := Start(t, "http.server", py, "-m", "http.server", "--bind", "127.0.0.1", strconv.Itoa(port), "--directory", t.TempDir())
	p.WaitFor(t, 20*time.Second, HTTPReady("http://"+addr+"/"))
	p.Stop()
	if ok, _ := p.Exited(); !ok {
		t.Fatal("Stop returned before the process exited")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("port still open after Stop")
	}
	p.Stop() // a second Stop is harmless
}

func TestKillIsACrash(t *testing.T) {
	p := Start(t, "sleep", LookPath(t, "sleep", "coreutils"), "1000")
	p.Kill()
	ok, err := p.Exited()
	if !ok {
		t.Fatal("not exited after Kill")
	}
	if ee, isExit := err.(interface{ Sys() any }); !isExit || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("exit = %v, want killed by SIGKILL", err)
	}
}

func TestWaitForFailsWhenTheServerExits(t *testing.T) {
	// WaitFor calls t.Fatalf; run it on a stub TB to see that it does.
	ft := &fatalTB{TB: t}
	p := Start(t, "false", LookPath(t, "false", "coreutils"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.WaitFor(ft, 10*time.Second, func() error { return http.ErrServerClosed })
	}()
	<-done
	if !ft.fatal {
		t.Fatal("WaitFor did not fail for a server that exited")
	}
}

type fatalTB struct {
	testing.TB
	fatal bool
}

func (f *fatalTB) Fatalf(string, ...any) { f.fatal = true; runtime.Goexit() }
func (f *fatalTB) Helper()               {}
