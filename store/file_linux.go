package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/batonhq/baton"
)

// fileProblem says what keeps Baton from writing the SQLite database at
// path, its directory or the files SQLite keeps beside it (-wal, -shm), or
// "" when nothing visible does. It never opens the database file: closing
// a descriptor of it would drop the locks SQLite holds on it in this
// process.
func fileProblem(path string) string {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("the directory %s does not exist", dir)
		}
		return fmt.Sprintf("the directory %s cannot be read: %v", dir, err)
	} else if !fi.IsDir() {
		return fmt.Sprintf("%s is not a directory", dir)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				return fmt.Sprintf("%s is a directory, not a database file", p)
			}
			if msg := accessProblem(p); msg != "" {
				return msg
			}
		}
	}
	// The directory must take new files: the -wal and -shm files, and the
	// database itself when it is new.
	return accessProblem(dir)
}

func accessProblem(p string) string {
	switch err := unix.Access(p, unix.W_OK); {
	case err == nil:
		return ""
	case errors.Is(err, unix.EROFS):
		return fmt.Sprintf("%s is on a read-only file system", p)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return fmt.Sprintf("%s is read-only for this user (its permissions)", p)
	default:
		return fmt.Sprintf("%s cannot be written: %v", p, err)
	}
}

// sqliteFileProblem refuses to open what cannot be an SQLite database.
func sqliteFileProblem(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return baton.Errorf(baton.EINVALID, "%s is a directory, not a database file", path)
	}
	if p := fileProblem(path); p != "" {
		if _, err := os.Stat(path); err != nil {
			return baton.Errorf(baton.EUNAVAILABLE, "cannot create the database: %s", p)
		}
		return baton.Errorf(baton.EUNAVAILABLE, "cannot open the database for writing: %s", p)
	}
	return nil
}

// freeBytes returns the space this process may still write on the file
// system that holds dir (root may use the blocks kept for it).
func freeBytes(dir string) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	blocks := st.Bavail
	if os.Geteuid() == 0 {
		blocks = st.Bfree
	}
	return int64(blocks) * int64(st.Bsize), true
}

// lockFile takes a shared lock on the database's lock file (path + "-lock")
// for as long as the database is open: a restore takes it exclusively, so
// it can tell that a server or a command has the database open, and those
// cannot open the database while a restore replaces it. A file system
// where the lock file cannot be made (read-only) gets no lock: nothing can
// replace the database there either.
func lockFile(path string) (io.Closer, error) {
	f, err := flock(path, unix.LOCK_SH)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil, baton.Errorf(baton.EUNAVAILABLE, "%s is being restored from a backup: try again when the restore has finished", path)
	} else if errors.Is(err, fs.ErrPermission) || errors.Is(err, unix.EROFS) {
		return io.NopCloser(nil), nil
	} else if err != nil {
		return nil, err
	}
	return f, nil
}

// lockExclusive takes the database's lock file exclusively, failing at once
// when anything has the database open.
func lockExclusive(path string) (io.Closer, error) {
	f, err := flock(path, unix.LOCK_EX)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil, baton.Errorf(baton.ECONFLICT, "%s is open in a running Baton (a server or a command): stop it first", path)
	} else if err != nil {
		return nil, err
	}
	return f, nil
}

// flock opens path + "-lock" and locks it how, without waiting.
func flock(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path+"-lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
