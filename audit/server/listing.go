package server

import (
	"io"
	"os"
	"slices"
	"syscall"

	"github.com/spf13/afero"
)

// openDir opens the directory real of fsys for listing, and nothing else: a FIFO (a symlink's
// target, or a directory replaced since it was looked at) would block the open until a writer
// came. O_DIRECTORY refuses it where the backend honours the flag; O_NONBLOCK keeps the open from
// waiting where it does not.
func openDir(fsys afero.Fs, real string) (afero.File, error) {
	return fsys.OpenFile(real, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
}

// listNames gives the names in the directory real of fsys, in byte order, as the servers sort
// what a wildcard matches: at most limit of them, the first the directory gives, with more set
// where it holds others beyond. Where reading fails part way, the names read so far come with
// the error.
func listNames(fsys afero.Fs, real string, limit int) (names []string, more bool, err error) {
	f, err := openDir(fsys, real)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	for len(names) <= limit {
		batch, err := f.Readdirnames(256)
		names = append(names, batch...)
		if err == io.EOF || len(batch) == 0 {
			break
		}
		if err != nil {
			slices.Sort(names)
			return names, false, err
		}
	}
	if len(names) > limit {
		names, more = names[:limit], true
	}
	slices.Sort(names)
	return names, more, nil
}
