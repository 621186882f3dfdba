package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// ModulePath is the Go module the k6 binary is built from.
const ModulePath = "github.com/headroom/headroom"

// K6Env names the environment variable that may point at the k6 binary.
const K6Env = "HEADROOM_K6"

// K6Options say where to find or build the k6 binary with Headroom's extensions.
type K6Options struct {
	// Path is a binary given explicitly (--k6); it is used as it is, after a check.
	Path string
	// SourceDir is the module's source tree, to build from; "" finds it from the working
	// directory (go env GOMOD).
	SourceDir string
	// CacheDir holds built binaries, one per content of the sources; "" is the user's
	// cache directory (…/headroom/k6).
	CacheDir string
	// Log receives what a build prints (nil: discarded).
	Log io.Writer
}

// FindK6 returns a k6 binary with Headroom's extensions, looked for in this order:
//
//  1. opts.Path (--k6), checked with `k6 version`;
//  2. $HEADROOM_K6;
//  3. a file named k6 beside the running executable (where `go build -o bin/ ./cmd/...`
//     puts both);
//  4. built from the source tree with `go build ./cmd/k6` into the cache directory, in a
//     directory named after the hash of every source file it is built from — so a binary
//     is built once per change of the sources and reused by every later run and test.
func FindK6(ctx context.Context, opts K6Options) (string, error) {
	if opts.Path != "" {
		return opts.Path, CheckK6(ctx, opts.Path)
	}
	if p := os.Getenv(K6Env); p != "" {
		return p, CheckK6(ctx, p)
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "k6")
		if _, err := os.Stat(p); err == nil && CheckK6(ctx, p) == nil {
			return p, nil
		}
	}
	p, err := BuildK6(ctx, opts)
	if err != nil {
		return "", fmt.Errorf("no k6 with Headroom's extensions: give --k6 PATH (or $%s), put one named k6 beside headroom, or run from the source tree so it can be built (go build -o k6 ./cmd/k6): %w", K6Env, err)
	}
	return p, nil
}

// CheckK6 runs `k6 version` and checks that it lists the JS module and the output.
func CheckK6(ctx context.Context, path string) error {
	out, err := exec.CommandContext(ctx, path, "version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s version: %w: %s", path, err, bytes.TrimSpace(out))
	}
	s := string(out)
	if !strings.Contains(s, "k6/x/headroom [js]") || !strings.Contains(s, "headroom [output]") {
		return fmt.Errorf("%s is a k6 without Headroom's extensions (k6 version lists no k6/x/headroom [js] and headroom [output]); build one with go build -o k6 ./cmd/k6", path)
	}
	return nil
}

// buildMu serialises builds within a process; across processes the rename into place is
// atomic, so two builds of the same sources at once only waste time.
var buildMu sync.Mutex

// BuildK6 builds cmd/k6 into the cache directory unless a binary of the same sources is
// there already, and returns its path.
func BuildK6(ctx context.Context, opts K6Options) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	dir := opts.SourceDir
	if dir == "" {
		d, err := moduleRoot(ctx)
		if err != nil {
			return "", err
		}
		dir = d
	}
	cache := opts.CacheDir
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("cache directory: %w", err)
		}
		cache = filepath.Join(base, "headroom", "k6")
	}
	sum, err := sourceHash(ctx, dir)
	if err != nil {
		return "", err
	}
	// One directory per content, the binary named k6 in it: k6 names itself after its file.
	bin := filepath.Join(cache, sum[:16], "k6")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, "./cmd/k6")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "building k6 with Headroom's extensions into %s (the first build takes minutes)\n", bin)
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, opts.Log), io.MultiWriter(&out, opts.Log)
	}
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go build ./cmd/k6 in %s: %w: %s", dir, err, bytes.TrimSpace(out.Bytes()))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("k6 build: %w", err)
	}
	return bin, nil
}

// moduleRoot finds the Headroom module from the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is Go installed?)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("the working directory is not in a Go module")
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	if !bytes.Contains(data, []byte("module "+ModulePath+"\n")) {
		return "", fmt.Errorf("%s is not the %s module", gomod, ModulePath)
	}
	return filepath.Dir(gomod), nil
}

// sourceHash hashes every file of the module that the k6 binary is built from (the Go and
// embedded files of its packages in this module) and go.mod and go.sum.
func sourceHash(ctx context.Context, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps",
		"-f", `{{if .Module}}{{if eq .Module.Path "`+ModulePath+`"}}{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}{{end}}{{end}}`,
		"./cmd/k6")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list ./cmd/k6: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			continue
		}
		for _, list := range parts[1:] {
			for _, f := range strings.Split(list, ",") {
				if f != "" {
					files = append(files, filepath.Join(parts[0], f))
				}
			}
		}
	}
	files = append(files, filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"))
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
