package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// testStore runs the behaviour every Store must share against s. Each case
// uses keys of its own, so the cases don't depend on one another.
func testStore(t *testing.T, s Store) {
	t.Helper()

	t.Run("Ping", func(t *testing.T) {
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		tests := []struct {
			name        string
			key         string
			data        []byte
			size        int64 // passed to Put; -1 means unknown, -2 the data's length, -3 unknown with a reader that can't seek
			contentType string
			wantType    string
		}{
			{"jpeg", "offers/12/3f9a.jpg", []byte("\xff\xd8\xff\xe0 fake jpeg"), -2, "image/jpeg", "image/jpeg"},
			{"png unknown size", "offers/12/p.png", []byte("\x89PNG\r\n\x1a\n fake png"), -1, "image/png", "image/png"},
			{"unknown size, reader can't seek", "offers/12/q.png", []byte("\x89PNG\r\n\x1a\n plain reader"), -3, "image/png", "image/png"},
			{"type unrelated to extension", "offers/13/x.jpg", []byte("webp bytes"), -2, "image/webp", "image/webp"},
			{"type with parameters", "docs/readme.txt", []byte("hello"), -2, "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
			{"empty type", "blobs/raw-1", []byte{0, 1, 2, 3}, -2, "", "application/octet-stream"},
			{"empty object", "blobs/empty", nil, -2, "image/png", "image/png"},
			{"larger object", "blobs/big.bin", bytes.Repeat([]byte("0123456789abcdef"), 64<<10), -2, "application/octet-stream", "application/octet-stream"},
			{"top-level key", "top.jpg", []byte("top"), -2, "image/jpeg", "image/jpeg"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var r io.Reader = bytes.NewReader(tc.data)
				size := tc.size
				switch size {
				case -2:
					size = int64(len(tc.data))
				case -3:
					r, size = plainReader{r}, -1
				}
				before := time.Now()
				if err := s.Put(t.Context(), tc.key, r, size, tc.contentType); err != nil {
					t.Fatalf("Put: %v", err)
				}
				got, obj := mustGet(t, s, tc.key)
				if !bytes.Equal(got, tc.data) {
					t.Errorf("content = %d bytes %.20q, want %d bytes %.20q", len(got), got, len(tc.data), tc.data)
				}
				want := Object{Key: tc.key, ContentType: tc.wantType, Size: int64(len(tc.data))}
				if obj.Key != want.Key || obj.ContentType != want.ContentType || obj.Size != want.Size {
					t.Errorf("object = %+v, want key %q, type %q, size %d", obj, want.Key, want.ContentType, want.Size)
				}
				// S3 keeps modification times to the second; allow for that
				// and for clock skew with a service on the same machine.
				if obj.ModTime.Before(before.Add(-2*time.Second)) || obj.ModTime.After(time.Now().Add(2*time.Second)) {
					t.Errorf("ModTime = %v, want close to %v", obj.ModTime, before)
				}
			})
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		const key = "offers/20/photo.jpg"
		steps := []struct {
			data        string
			contentType string
		}{
			{"first version, rather long content", "image/jpeg"},
			{"second", "image/webp"},
			{"third version is the longest one of all three", "image/png"},
		}
		for i, st := range steps {
			if err := s.Put(t.Context(), key, strings.NewReader(st.data), int64(len(st.data)), st.contentType); err != nil {
				t.Fatalf("Put #%d: %v", i+1, err)
			}
			got, obj := mustGet(t, s, key)
			if string(got) != st.data || obj.ContentType != st.contentType || obj.Size != int64(len(st.data)) {
				t.Errorf("after Put #%d: got %q (%s, %d bytes), want %q (%s, %d bytes)",
					i+1, got, obj.ContentType, obj.Size, st.data, st.contentType, len(st.data))
			}
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		// "offers/30/a.jpg" exists, so its prefix and a sibling don't.
		mustPut(t, s, "offers/30/a.jpg", "a", "image/jpeg")
		for _, key := range []string{"offers/30/missing.jpg", "never/stored.png", "offers/30", "offers/30/a.jp", "offers/30/a.jpg/child"} {
			t.Run(key, func(t *testing.T) {
				rc, _, err := s.Get(t.Context(), key)
				if err == nil {
					rc.Close()
				}
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get(%q) error = %v, want ErrNotFound", key, err)
				}
			})
		}
	})

	t.Run("DeleteThenGet", func(t *testing.T) {
		const key = "offers/40/gone.png"
		mustPut(t, s, key, "soon gone", "image/png")
		if err := s.Delete(t.Context(), key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		rc, _, err := s.Get(t.Context(), key)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get after Delete error = %v, want ErrNotFound", err)
		}
		// Deleting again, and then storing anew, both work.
		if err := s.Delete(t.Context(), key); err != nil {
			t.Fatalf("second Delete: %v", err)
		}
		mustPut(t, s, key, "back", "image/png")
		if got, _ := mustGet(t, s, key); string(got) != "back" {
			t.Fatalf("content after re-Put = %q, want %q", got, "back")
		}
	})

	t.Run("DeleteMissing", func(t *testing.T) {
		mustPut(t, s, "offers/50/kept.jpg", "kept", "image/jpeg")
		for _, key := range []string{"offers/50/never.jpg", "nothing/here", "offers/50"} {
			if err := s.Delete(t.Context(), key); err != nil {
				t.Errorf("Delete(%q) of a missing key: %v", key, err)
			}
		}
		// Deleting a prefix must not touch the object under it.
		if got, _ := mustGet(t, s, "offers/50/kept.jpg"); string(got) != "kept" {
			t.Errorf("content = %q, want %q", got, "kept")
		}
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		keys := []string{
			"", "/offers/1.jpg", "offers/../etc/passwd", "..", "Offers/1.jpg", "offers/1.JPG",
			"offers/1 2.jpg", "offers\\1.jpg", "offers/1.jpg/", "offers//1.jpg", "./offers/1.jpg",
			"offers/ü.jpg", "offers/1.jpg?x=1", strings.Repeat("a", MaxKeyLen+1),
		}
		for _, key := range keys {
			t.Run(strconv.Quote(key), func(t *testing.T) {
				if err := s.Put(t.Context(), key, strings.NewReader("x"), 1, "image/jpeg"); !errors.Is(err, ErrInvalidKey) {
					t.Errorf("Put error = %v, want ErrInvalidKey", err)
				}
				rc, _, err := s.Get(t.Context(), key)
				if err == nil {
					rc.Close()
				}
				if !errors.Is(err, ErrInvalidKey) || errors.Is(err, ErrNotFound) {
					t.Errorf("Get error = %v, want ErrInvalidKey only", err)
				}
				if err := s.Delete(t.Context(), key); !errors.Is(err, ErrInvalidKey) {
					t.Errorf("Delete error = %v, want ErrInvalidKey", err)
				}
			})
		}
	})

	t.Run("BadPut", func(t *testing.T) {
		tests := []struct {
			name        string
			key         string
			r           io.Reader
			size        int64
			contentType string
		}{
			{"reader shorter than size", "bad/short.jpg", strings.NewReader("abc"), 10, "image/jpeg"},
			{"reader longer than size", "bad/long.jpg", strings.NewReader("abcdef"), 3, "image/jpeg"},
			{"plain reader shorter than size", "bad/plain-short.jpg", plainReader{strings.NewReader("abc")}, 10, "image/jpeg"},
			{"plain reader longer than size", "bad/plain-long.jpg", plainReader{strings.NewReader("abcdef")}, 3, "image/jpeg"},
			{"empty reader with size", "bad/empty.jpg", strings.NewReader(""), 1, "image/jpeg"},
			{"reader fails", "bad/failing.jpg", io.MultiReader(strings.NewReader("abc"), errReader{}), -1, "image/jpeg"},
			{"invalid content type", "bad/type.jpg", strings.NewReader("abc"), 3, "not a type"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := s.Put(t.Context(), tc.key, tc.r, tc.size, tc.contentType); err == nil {
					t.Fatal("Put succeeded, want an error")
				}
				rc, _, err := s.Get(t.Context(), tc.key)
				if err == nil {
					rc.Close()
				}
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get after failed Put error = %v, want ErrNotFound", err)
				}
			})
		}
	})

	t.Run("FailedPutKeepsOldObject", func(t *testing.T) {
		const key = "offers/60/keep.jpg"
		mustPut(t, s, key, "original", "image/jpeg")
		if err := s.Put(t.Context(), key, strings.NewReader("short"), 100, "image/png"); err == nil {
			t.Fatal("Put with a short reader succeeded, want an error")
		}
		got, obj := mustGet(t, s, key)
		if string(got) != "original" || obj.ContentType != "image/jpeg" {
			t.Fatalf("after failed Put: %q (%s), want %q (image/jpeg)", got, obj.ContentType, "original")
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Put(ctx, "offers/70/c.jpg", strings.NewReader("c"), 1, "image/jpeg"); err == nil {
			t.Error("Put with a cancelled context succeeded")
		}
		rc, _, err := s.Get(ctx, "offers/70/c.jpg")
		if err == nil {
			rc.Close()
			t.Error("Get with a cancelled context succeeded")
		}
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		const n = 24
		content := func(i int) string { return strings.Repeat(fmt.Sprintf("object %d;", i), 100*(i+1)) }
		types := []string{"image/jpeg", "image/png", "image/webp"}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				data := content(i)
				errs[i] = s.Put(t.Context(), fmt.Sprintf("offers/80/%d/photo.jpg", i),
					strings.NewReader(data), int64(len(data)), types[i%len(types)])
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Put #%d: %v", i, err)
			}
		}
		// Read them back concurrently as well.
		for i := range n {
			wg.Go(func() {
				key := fmt.Sprintf("offers/80/%d/photo.jpg", i)
				rc, obj, err := s.Get(t.Context(), key)
				if err != nil {
					t.Errorf("Get(%q): %v", key, err)
					return
				}
				defer rc.Close()
				got, err := io.ReadAll(rc)
				if err != nil {
					t.Errorf("read %q: %v", key, err)
					return
				}
				if string(got) != content(i) || obj.ContentType != types[i%len(types)] {
					t.Errorf("%q: got %d bytes of type %s, want %d bytes of type %s",
						key, len(got), obj.ContentType, len(content(i)), types[i%len(types)])
				}
			})
		}
		wg.Wait()
	})

	t.Run("ConcurrentSameKey", func(t *testing.T) {
		// Writers racing on one key: whoever wins, readers must see one
		// writer's content with that writer's type, never a mix.
		const key = "offers/90/race.jpg"
		const n = 12
		content := func(i int) string { return strings.Repeat(strconv.Itoa(i%10), 1000+i) }
		typeOf := func(i int) string { return fmt.Sprintf("image/x-test-%d", i) }
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				data := content(i)
				if err := s.Put(t.Context(), key, strings.NewReader(data), int64(len(data)), typeOf(i)); err != nil {
					t.Errorf("Put #%d: %v", i, err)
				}
			})
			wg.Go(func() {
				rc, obj, err := s.Get(t.Context(), key)
				if errors.Is(err, ErrNotFound) {
					return // no writer has finished yet
				}
				if err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				defer rc.Close()
				got, err := io.ReadAll(rc)
				if err != nil {
					t.Errorf("read: %v", err)
					return
				}
				w := len(got) - 1000
				if w < 0 || w >= n || string(got) != content(w) || obj.ContentType != typeOf(w) || obj.Size != int64(len(got)) {
					t.Errorf("Get saw a mixed object: %d bytes, type %s, size %d", len(got), obj.ContentType, obj.Size)
				}
			})
		}
		wg.Wait()
	})
}

// plainReader hides every method of its reader but Read, as a network
// stream would.
type plainReader struct{ r io.Reader }

// Read reads from the wrapped reader.
func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// errReader fails every read.
type errReader struct{}

// Read fails.
func (errReader) Read([]byte) (int, error) { return 0, errors.New("read failed on purpose") }

// mustPut stores data under key or fails the test.
func mustPut(t *testing.T, s Store, key, data, contentType string) {
	t.Helper()
	if err := s.Put(t.Context(), key, strings.NewReader(data), int64(len(data)), contentType); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// mustGet reads the object under key or fails the test.
func mustGet(t *testing.T, s Store, key string) ([]byte, Object) {
	t.Helper()
	rc, obj, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b, obj
}

// TestDiskStore runs the shared Store tests against a Disk.
func TestDiskStore(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, d)
}

// TestS3Store runs the shared Store tests against S3 on a fresh bucket.
func TestS3Store(t *testing.T) {
	s := newTestS3(t)
	testStore(t, s)
}

// S3 test settings, read from the environment.
const (
	envS3Endpoint  = "IKRA_TEST_S3_ENDPOINT"
	envS3AccessKey = "IKRA_TEST_S3_ACCESS_KEY"
	envS3SecretKey = "IKRA_TEST_S3_SECRET_KEY"
	envS3UseSSL    = "IKRA_TEST_S3_USE_SSL"
)

// testS3Config returns the settings of the test S3 service with a fresh
// bucket name. Without them the test is skipped, except in CI (CI set),
// where a missing service is a failure.
func testS3Config(t *testing.T) S3Config {
	t.Helper()
	var missing []string
	for _, name := range []string{envS3Endpoint, envS3AccessKey, envS3SecretKey} {
		if os.Getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		msg := "S3 tests need an S3-compatible service (such as MinIO); set " + strings.Join(missing, ", ")
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: in CI (CI=%q) the service must be running and configured", msg, os.Getenv("CI"))
		}
		t.Skip(msg)
	}
	useSSL := false
	if v := os.Getenv(envS3UseSSL); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", envS3UseSSL, v, err)
		}
		useSSL = b
	}
	return S3Config{
		Endpoint:  os.Getenv(envS3Endpoint),
		AccessKey: os.Getenv(envS3AccessKey),
		SecretKey: os.Getenv(envS3SecretKey),
		Bucket:    "ikra-test-" + randomHex(t, 8),
		UseSSL:    useSSL,
	}
}

// newTestS3 opens an S3 store on a fresh bucket, which is removed with its
// objects when the test ends.
func newTestS3(t *testing.T) *S3 {
	t.Helper()
	cfg := testS3Config(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := NewS3(ctx, cfg)
	if err != nil {
		t.Fatalf("NewS3(%s, bucket %s): %v", cfg.Endpoint, cfg.Bucket, err)
	}
	t.Cleanup(func() { removeTestBucket(t, s) })
	return s
}

// removeTestBucket deletes every object in s's bucket and then the bucket.
func removeTestBucket(t *testing.T, s *S3) {
	t.Helper()
	// t.Context() is already cancelled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if exists, err := s.client.BucketExists(ctx, s.bucket); err == nil && !exists {
		return // a test removed it already
	}
	objects := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true})
	for rerr := range s.client.RemoveObjects(ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		t.Errorf("cleanup: remove %s/%s: %v", s.bucket, rerr.ObjectName, rerr.Err)
	}
	if err := s.client.RemoveBucket(ctx, s.bucket); err != nil {
		t.Errorf("cleanup: remove bucket %s: %v", s.bucket, err)
	}
}

// randomHex returns n random bytes in hex.
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestNewS3ExistingBucket opens stores on one bucket concurrently and again
// afterwards: creating a bucket that someone else just created, or that
// already exists, must succeed.
func TestNewS3ExistingBucket(t *testing.T) {
	cfg := testS3Config(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	const n = 6
	stores := make([]*S3, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = NewS3(ctx, cfg) })
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { removeTestBucket(t, s) })
			break
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent NewS3 #%d: %v", i, err)
		}
	}
	again, err := NewS3(ctx, cfg)
	if err != nil {
		t.Fatalf("NewS3 on an existing bucket: %v", err)
	}
	if err := again.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestS3PingMissingBucket checks that Ping fails once the bucket is gone.
func TestS3PingMissingBucket(t *testing.T) {
	cfg := testS3Config(t)
	ctx := t.Context()
	s, err := NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTestBucket(t, s) })
	if err := s.client.RemoveBucket(ctx, s.bucket); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded on a removed bucket")
	}
}

// TestNewS3BadConfig checks that NewS3 refuses incomplete settings before any request.
func TestNewS3BadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  S3Config
		want string
	}{
		{"no endpoint", S3Config{Bucket: "b"}, "endpoint not set"},
		{"no bucket", S3Config{Endpoint: "127.0.0.1:1"}, "bucket not set"},
		{"http with UseSSL", S3Config{Endpoint: "http://127.0.0.1:1", Bucket: "b", UseSSL: true}, "plain http"},
		{"endpoint with path", S3Config{Endpoint: "127.0.0.1:1/path", Bucket: "b"}, "without a path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewS3(t.Context(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewS3 error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestS3Endpoint checks how endpoints written as URLs are read.
func TestS3Endpoint(t *testing.T) {
	tests := []struct {
		cfg        S3Config
		wantHost   string
		wantSecure bool
	}{
		{S3Config{Endpoint: "127.0.0.1:9000"}, "127.0.0.1:9000", false},
		{S3Config{Endpoint: "127.0.0.1:9000", UseSSL: true}, "127.0.0.1:9000", true},
		{S3Config{Endpoint: "https://s3.example.com"}, "s3.example.com", true},
		{S3Config{Endpoint: "http://minio:9000/"}, "minio:9000", false},
	}
	for _, tc := range tests {
		host, secure, err := s3Endpoint(tc.cfg)
		if err != nil || host != tc.wantHost || secure != tc.wantSecure {
			t.Errorf("s3Endpoint(%+v) = %q, %v, %v; want %q, %v, nil", tc.cfg, host, secure, err, tc.wantHost, tc.wantSecure)
		}
	}
}

// TestNewS3Unreachable checks that NewS3 reports a service that does not
// answer instead of returning a store that fails later.
func TestNewS3Unreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens there.
	_, err := NewS3(ctx, S3Config{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "b", Bucket: "ikra-none"})
	if err == nil {
		t.Fatal("NewS3 succeeded against a closed port")
	}
	t.Logf("error, as wanted: %v", err)
}
