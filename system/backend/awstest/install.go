package awstest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// installTimeout bounds `npm ci`: about 15 s here, the rest is for a slow registry.
const installTimeout = 5 * time.Minute

// installed reports whether dir's node_modules holds both emulators.
func installed(dir string) bool {
	for _, f := range []string{
		"node_modules/.package-lock.json",
		"node_modules/dynalite/index.js",
		"node_modules/fauxqs/dist/app.js",
	} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// Install runs `npm ci` in dir unless its node_modules is already complete. Test binaries
// of several packages start together (go test runs packages in parallel), so an exclusive
// lock on a file in dir makes one of them install while the others wait and then find the
// install done.
func Install(ctx context.Context, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err != nil {
		return fmt.Errorf("emulator project %s: %w (is the repository complete?)", dir, err)
	}
	if installed(dir) {
		return nil
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("emulator project %s: lock: %w", dir, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("emulator project %s: lock: %w", dir, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if installed(dir) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm is not on PATH: install Node.js >= 20 with npm (apt-get install nodejs npm), "+
			"then the tests install the emulators themselves (npm ci in %s)", dir)
	}
	ctx, cancel := context.WithTimeout(ctx, installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s failed (%v); the AWS emulators are needed for these tests:\n%s", dir, err, out.Bytes())
	}
	if !installed(dir) {
		return fmt.Errorf("npm ci in %s succeeded but dynalite or fauxqs is missing from node_modules:\n%s", dir, out.Bytes())
	}
	return nil
}
