package nnbeam

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local files by default
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// The lines of text files, each with its file and line number, read by a
// splittable DoFn as Beam's textio reads lines, so that a bad row can be
// reported where it is.

func init() {
	beam.RegisterType(reflect.TypeFor[Line]())
	register.DoFn4x1[context.Context, *sdf.LockRTracker, fileio.ReadableFile, func(Line), error](&readLinesFn{})
	register.Emitter1[Line]()
}

// Line is a line of a text file, without its line ending.
type Line struct {
	// File is the path of the file, as the file system matched it.
	File string
	// Number is the 1-based number of the line in the file.
	Number int64
	// Text is the line, without "\n" or "\r\n".
	Text string
}

// String returns where the line is, "file:number", as compilers name a
// place in a file.
func (l Line) String() string {
	return l.File + ":" + strconv.FormatInt(l.Number, 10)
}

// splitBytes is the size of the byte ranges of a file that are read in
// parallel, as in Beam's textio. A range that does not start the file first
// reads the file up to it to count its lines, so that every line gets its
// number; that costs a pass over the file per range.
var splitBytes int64 = 64 << 20 // a variable for the tests

// ReadLines reads the lines of the files that glob matches (local, or on
// any file system registered with Beam, such as gs://) as a
// PCollection<Line>. Files are split into ranges of 64 MiB read in
// parallel, except gzip files (".gz"), which are decompressed and read
// whole. A glob that matches no file is an error when the pipeline runs.
func ReadLines(s beam.Scope, glob string) beam.PCollection {
	s = s.Scope("nnbeam.ReadLines")
	filesystem.ValidateScheme(glob)
	matches := fileio.MatchFiles(s, glob, fileio.MatchEmptyDisallow())
	files := fileio.ReadMatches(s, matches, fileio.ReadAutoCompression(), fileio.ReadDirectorySkip())
	return beam.ParDo(s, &readLinesFn{}, files)
}

// readLinesFn is the splittable DoFn of ReadLines. Its restriction is a
// range of byte offsets of the file; it emits the lines that start in it.
type readLinesFn struct{}

// CreateInitialRestriction returns the bytes of the whole file, or for a
// compressed file, whose offsets are not those of its text, the range
// [0, 1): claiming 0 claims the whole file, which cannot then be split.
func (fn *readLinesFn) CreateInitialRestriction(file fileio.ReadableFile) offsetrange.Restriction {
	if compressed(file.Metadata.Path) {
		return offsetrange.Restriction{Start: 0, End: 1}
	}
	return offsetrange.Restriction{Start: 0, End: file.Metadata.Size}
}

// SplitRestriction splits rest into ranges of splitBytes, the last one
// taking a remainder of less than a quarter of that. A compressed file is
// not split: its byte offsets are not those of its text.
func (fn *readLinesFn) SplitRestriction(file fileio.ReadableFile, rest offsetrange.Restriction) []offsetrange.Restriction {
	if compressed(file.Metadata.Path) {
		return []offsetrange.Restriction{rest}
	}
	splits := rest.SizedSplits(splitBytes)
	if n := len(splits); n > 1 && splits[n-1].End-splits[n-1].Start <= splitBytes/4 {
		splits[n-2].End = splits[n-1].End
		splits = splits[:n-1]
	}
	return splits
}

// RestrictionSize returns the bytes of rest.
func (fn *readLinesFn) RestrictionSize(_ fileio.ReadableFile, rest offsetrange.Restriction) float64 {
	return rest.Size()
}

// CreateTracker returns a tracker of rest.
func (fn *readLinesFn) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(rest))
}

// compressed reports whether fileio's automatic detection reads path as
// gzip.
func compressed(path string) bool {
	return strings.HasSuffix(path, ".gz")
}

// ProcessElement emits the lines of file that start in the restriction of
// rt: a line starts in it if its first byte does, and is emitted whole
// even if it ends beyond. A range that starts inside a line leaves that
// line to the range before.
func (fn *readLinesFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, file fileio.ReadableFile, emit func(Line)) error {
	fd, err := file.Open(ctx)
	if err != nil {
		return err
	}
	defer fd.Close()
	rd := bufio.NewReaderSize(fd, 1<<16)
	rest := rt.GetRestriction().(offsetrange.Restriction)
	path := file.Metadata.Path
	key := fmt.Sprintf("%s\x00%d\x00%d", path, file.Metadata.Size, file.Metadata.LastModified.UnixNano())
	pos, number := int64(0), int64(1)
	if rest.Start > 0 {
		// Count the lines before the byte just before the range, from
		// the nearest place before it whose line this worker knows,
		// then finish the line that byte is in: the next line is the
		// first to start in the range.
		from := int64(0)
		if m, ok := marks.before(key, rest.Start-1); ok {
			if s, seeks := fd.(io.Seeker); seeks {
				if _, err := s.Seek(m.off, io.SeekStart); err == nil {
					from, number = m.off, m.line
				}
			}
		}
		if from > 0 {
			rd.Reset(fd) // nothing was buffered before the seek
		}
		n, err := countLines(rd, rest.Start-1-from)
		if err != nil {
			return fmt.Errorf("nnbeam: %s: %w", path, err)
		}
		number += n
		line, err := readLine(rd)
		if err == io.EOF {
			rt.TryClaim(rest.End)
			return nil
		}
		if err != nil {
			return fmt.Errorf("nnbeam: %s: %w", path, err)
		}
		pos = rest.Start - 1 + int64(len(line))
		number++
	}
	next := pos + markBytes // where to record the next mark
	whole := compressed(path)
	if whole && !rt.TryClaim(int64(0)) {
		return nil
	}
	for whole || rt.TryClaim(pos) {
		line, err := readLine(rd)
		if err == io.EOF {
			if len(line) > 0 {
				emit(Line{File: path, Number: number, Text: trimEOL(line)})
			}
			rt.TryClaim(rest.End)
			break
		}
		if err != nil {
			return fmt.Errorf("nnbeam: %s:%d: %w", path, number, err)
		}
		emit(Line{File: path, Number: number, Text: trimEOL(line)})
		pos += int64(len(line))
		number++
		if pos >= next {
			marks.add(key, lineMark{off: pos, line: number})
			next = pos + markBytes
		}
	}
	return nil
}

// markBytes is the distance in bytes between the places of a file whose
// line numbers a worker records as it reads, to start counting the lines
// before a range from the nearest of them rather than from the start.
var markBytes int64 = 4 << 20 // a variable for the tests

// lineMark is a place in a file: the byte offset of the start of a line,
// and its number.
type lineMark struct {
	off, line int64
}

// marks holds the places of the files a worker has read, by file (its
// path, size and time of modification), in order of offset, so that the
// ranges of a file after the first read it from a place near their start
// instead of from the start of the file: reading a file in ranges takes
// one pass over it, not one per range, when one worker reads them in
// order, as the local runners do. Files that cannot seek, such as gzip
// files and some cloud storage, are read from the start.
var marks lineMarks

// lineMarks is the type of marks.
type lineMarks struct {
	sync.Mutex
	byFile map[string][]lineMark
}

// maxMarks bounds the marks kept per file: 2¹⁶ of them span a file of
// 256 GiB.
const maxMarks = 1 << 16

// add records m for the file key.
func (l *lineMarks) add(key string, m lineMark) {
	l.Lock()
	defer l.Unlock()
	if l.byFile == nil {
		l.byFile = make(map[string][]lineMark)
	}
	ms := l.byFile[key]
	i, found := slices.BinarySearchFunc(ms, m.off, func(m lineMark, off int64) int { return cmp.Compare(m.off, off) })
	if found || len(ms) >= maxMarks {
		return
	}
	l.byFile[key] = slices.Insert(ms, i, m)
}

// before returns the last mark of the file key at or before off.
func (l *lineMarks) before(key string, off int64) (lineMark, bool) {
	l.Lock()
	defer l.Unlock()
	ms := l.byFile[key]
	i, found := slices.BinarySearchFunc(ms, off, func(m lineMark, off int64) int { return cmp.Compare(m.off, off) })
	if found {
		return ms[i], true
	}
	if i == 0 {
		return lineMark{}, false
	}
	return ms[i-1], true
}

// countLines reads n bytes from rd and returns the number of newlines
// among them.
func countLines(rd *bufio.Reader, n int64) (int64, error) {
	var lines int64
	for n > 0 {
		buf, err := rd.Peek(int(min(n, int64(rd.Size()))))
		lines += int64(bytes.Count(buf, []byte{'\n'}))
		rd.Discard(len(buf))
		n -= int64(len(buf))
		if err != nil && n > 0 {
			if err == io.EOF {
				return 0, errors.New("the file is shorter than it was when matched")
			}
			return 0, err
		}
	}
	return lines, nil
}

// MaxLineBytes is the longest line ReadLines reads; a longer one fails
// the job with an error naming it, rather than exhaust a worker's memory.
const MaxLineBytes = 16 << 20

// readLine returns the next line of rd with its "\n", if it has one. At
// the end of the input it returns io.EOF, with the last line if it does
// not end in "\n".
func readLine(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadSlice('\n')
	if err == nil {
		return string(line), nil
	}
	if err != bufio.ErrBufferFull {
		return string(line), err
	}
	// A line longer than the buffer.
	var b strings.Builder
	b.Write(line)
	for err == bufio.ErrBufferFull {
		if b.Len() > MaxLineBytes {
			return "", fmt.Errorf("line longer than %d bytes", MaxLineBytes)
		}
		line, err = rd.ReadSlice('\n')
		b.Write(line)
	}
	return b.String(), err
}

// trimEOL returns line without its "\n" or "\r\n".
func trimEOL(line string) string {
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r")
}
