package apptest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// PostgresBin is where Debian's PostgreSQL 15 keeps initdb and postgres.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// Postgres is a PostgreSQL server of the test's own, in a temporary folder on a free
// loopback port, to stop and start at will (never the machine's shared one).
type Postgres struct {
	URL  string
	t    testing.TB
	dir  string
	port int
	cred *syscall.Credential
	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{}
}

// PrivatePostgres initialises and starts a PostgreSQL server for this test alone, with
// fsync off (a crash of the server, not of the machine, loses nothing: commits stay
// synchronous, so a commit acknowledged is in the log), trust authentication and its socket in its own folder; it is shut down
// after the test. Run as root, the server runs as the postgres user. Without the
// binaries the test is skipped, except in CI, where it fails.
func PrivatePostgres(t testing.TB) *Postgres {
	t.Helper()
	if _, err := os.Stat(filepath.Join(PostgresBin, "postgres")); err != nil {
		missing(t, "PostgreSQL binaries not in "+PostgresBin)
	}
	dir, err := os.MkdirTemp("", "ikra-pg-")
	Must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &Postgres{t: t, dir: dir, port: FreePort(t)}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		Must(t, os.Chown(dir, uid, gid))
	}
	initdb := exec.Command(filepath.Join(PostgresBin, "initdb"), "-D", p.data(), "-U", "postgres", "--auth=trust",
		"--no-sync", "--encoding=UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }

// Start starts the server (again) and waits until it accepts connections.
func (p *Postgres) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	log, err := os.OpenFile(filepath.Join(p.dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	Must(p.t, err)
	defer log.Close()
	cmd := exec.Command(filepath.Join(PostgresBin, "postgres"), "-D", p.data(), "-p", strconv.Itoa(p.port), "-k", p.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	cmd.Stdout, cmd.Stderr = log, log
	Must(p.t, cmd.Start())
	p.cmd, p.exit = cmd, make(chan struct{})
	go func(exit chan struct{}) { _ = cmd.Wait(); close(exit) }(p.exit)
	db, err := sql.Open("pgx", p.URL)
	Must(p.t, err)
	defer db.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-p.exit:
			b, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
			p.t.Fatalf("postgres exited at start:\n%s", b)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("postgres did not accept connections: %v", err)
		}
	}
}

// Stop shuts the server down fast (SIGINT: sessions are ended, the data is kept) and
// waits for it to exit.
func (p *Postgres) Stop() { p.signal(syscall.SIGINT) }

// Crash stops the server the way a crash does (SIGQUIT: no checkpoint; it recovers
// from its write-ahead log at the next start).
func (p *Postgres) Crash() { p.signal(syscall.SIGQUIT) }

func (p *Postgres) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exit:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exit
	}
	p.cmd = nil
}

// Restart stops the server, waits for down, and starts it again.
func (p *Postgres) Restart(down time.Duration) {
	p.Stop()
	time.Sleep(down)
	p.Start()
}

// Redis is a redis-server of the test's own on a free loopback port.
type Redis struct {
	URL        string
	t          testing.TB
	port       int
	dir        string
	persistent bool
	mu         sync.Mutex
	cmd        *exec.Cmd
}

// PrivateRedis starts a redis-server for this test alone, killed after the test.
// persistent turns the append-only file on (every write synced), so that a restart
// keeps what was written; without it a restart starts empty. Without redis-server the
// test is skipped, except in CI, where it fails.
func PrivateRedis(t testing.TB, persistent bool) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		missing(t, "redis-server not on PATH")
	}
	r := &Redis{t: t, port: FreePort(t), dir: t.TempDir(), persistent: persistent}
	r.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", r.port)
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// Start starts the server (again) and waits until it answers.
func (r *Redis) Start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return
	}
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir, "--save", ""}
	if r.persistent {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	r.cmd = exec.Command("redis-server", args...)
	Must(r.t, r.cmd.Start())
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server did not start: %v", err)
		}
	}
}

// Kill ends the server the hard way, as a crash would (SIGKILL).
func (r *Redis) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// FreePort returns a loopback TCP port nothing listens on now.
func FreePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Must(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// missing skips a test whose server binary is not installed, or fails it in CI.
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but " + why)
	}
	t.Skip(why)
}
