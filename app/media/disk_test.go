package media

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newTestDisk(t *testing.T) (*Disk, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d, dir
}

// TestDiskLayout checks where a Disk keeps an object and its content type.
func TestDiskLayout(t *testing.T) {
	d, dir := newTestDisk(t)
	mustPut(t, d, "offers/12/3f9a.jpg", "jpeg bytes", "image/webp")

	tests := []struct {
		path string
		want string
	}{
		{filepath.Join(dir, "objects", "offers", "12", "3f9a.jpg"), "jpeg bytes"},
		{filepath.Join(dir, "types", "offers", "12", "3f9a.jpg"), "image/webp"},
	}
	for _, tc := range tests {
		b, err := os.ReadFile(tc.path)
		if err != nil || string(b) != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.path, b, err, tc.want)
		}
	}
	info, err := os.Stat(tests[0].path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o644 {
		t.Errorf("object file mode = %v, want 0644", perm)
	}
}

// TestDiskReopen checks that a new Disk on the same folder sees earlier objects.
func TestDiskReopen(t *testing.T) {
	d, dir := newTestDisk(t)
	mustPut(t, d, "offers/1/a.png", "png bytes", "image/png")

	d2, err := NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, obj := mustGet(t, d2, "offers/1/a.png")
	if string(got) != "png bytes" || obj.ContentType != "image/png" || obj.Size != 9 {
		t.Fatalf("after reopening: %q %+v", got, obj)
	}
}

// TestDiskLeavesNoTempFiles checks that Puts, failed or not, clean up after themselves.
func TestDiskLeavesNoTempFiles(t *testing.T) {
	d, dir := newTestDisk(t)
	mustPut(t, d, "a/ok.jpg", "fine", "image/jpeg")
	_ = d.Put(t.Context(), "a/short.jpg", strings.NewReader("abc"), 10, "image/jpeg")
	_ = d.Put(t.Context(), "a/long.jpg", strings.NewReader("abcdef"), 3, "image/jpeg")
	_ = d.Put(t.Context(), "a/failing.jpg", errReader{}, -1, "image/jpeg")
	mustPut(t, d, "a/b", "x", "")
	_ = d.Put(t.Context(), "a/b/c", strings.NewReader("x"), 1, "") // "a/b" is a file

	entries, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("temporary file left behind: %s", e.Name())
	}
}

// TestDiskRejectsLongerReader checks that a reader with more bytes than announced fails Put.
func TestDiskRejectsLongerReader(t *testing.T) {
	d, _ := newTestDisk(t)
	err := d.Put(t.Context(), "a/long.jpg", strings.NewReader("abcdef"), 3, "image/jpeg")
	if err == nil {
		t.Fatal("Put with a reader longer than size succeeded")
	}
	if _, _, err := d.Get(t.Context(), "a/long.jpg"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after failed Put = %v, want ErrNotFound", err)
	}
}

// TestDiskKeyUsedAsFolder checks Put on keys that clash with folders of other keys.
func TestDiskKeyUsedAsFolder(t *testing.T) {
	d, _ := newTestDisk(t)
	mustPut(t, d, "a/b.jpg", "file", "image/jpeg")
	mustPut(t, d, "c/d/e.jpg", "nested", "image/jpeg")

	tests := []struct {
		name string
		key  string
	}{
		{"below an object", "a/b.jpg/c"},
		{"on a folder holding objects", "c/d"},
		{"on a folder holding folders", "c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := d.Put(t.Context(), tc.key, strings.NewReader("x"), 1, "image/jpeg"); err == nil {
				t.Fatalf("Put(%q) succeeded, want an error", tc.key)
			}
		})
	}
	// The objects in the way are untouched.
	for key, want := range map[string]string{"a/b.jpg": "file", "c/d/e.jpg": "nested"} {
		if got, _ := mustGet(t, d, key); string(got) != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

// TestDiskMissingSidecar checks the fallback to the extension's type without a sidecar.
func TestDiskMissingSidecar(t *testing.T) {
	tests := []struct {
		key      string
		wantType string
	}{
		{"a/photo.png", "image/png"},
		{"a/photo.jpg", "image/jpeg"},
		{"a/blob", "application/octet-stream"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			d, dir := newTestDisk(t)
			mustPut(t, d, tc.key, "data", "image/webp")
			// As if the process had died between its two renames.
			if err := os.Remove(filepath.Join(dir, "types", filepath.FromSlash(tc.key))); err != nil {
				t.Fatal(err)
			}
			_, obj := mustGet(t, d, tc.key)
			if obj.ContentType != tc.wantType {
				t.Errorf("content type = %q, want %q", obj.ContentType, tc.wantType)
			}
		})
	}
}

// TestNewDiskRemovesStaleTemps checks that NewDisk removes old temporary files only.
func TestNewDiskRemovesStaleTemps(t *testing.T) {
	_, dir := newTestDisk(t)
	tmp := filepath.Join(dir, "tmp")
	stale := filepath.Join(tmp, "put-stale")
	fresh := filepath.Join(tmp, "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDisk(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file still there (%v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temporary file removed: %v", err)
	}
}

// TestNewDiskErrors checks that NewDisk refuses folders it can't use.
func TestNewDiskErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", file, filepath.Join(file, "below")} {
		if _, err := NewDisk(dir); err == nil {
			t.Errorf("NewDisk(%q) succeeded, want an error", dir)
		}
	}
}

// TestDiskPingFailsWhenFolderGone checks that Ping notices a removed folder.
func TestDiskPingFailsWhenFolderGone(t *testing.T) {
	d, dir := newTestDisk(t)
	if err := d.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(t.Context()); err == nil {
		t.Fatal("Ping succeeded after the folder was removed")
	}
}
