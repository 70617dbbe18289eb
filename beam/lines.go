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
	"unicode/utf8"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local files by default
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/neuralgo/nn/internal/excerpt"
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
	// Text is the line, without "\n" or "\r\n"; "" for a line with an
	// Err.
	Text string
	// Err says why the line could not be read, or is "" for a line read
	// whole: a line longer than MaxLineBytes is read past, not held in
	// memory, and its Err gives its length and quotes its start. Score
	// sends such a line to its dead letters.
	Err string
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
//
// A line longer than MaxLineBytes does not fail the job: it comes as a
// Line with an Err and no Text, its bytes skipped up to the next newline
// without being held in memory, and the lines after it keep their
// numbers. Each range of a file that starts inside such a line reads on
// to its end.
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
		before, err := countLines(rd, rest.Start-1-from)
		if err != nil {
			return fmt.Errorf("nnbeam: %s: %w", path, err)
		}
		number += before
		_, n, err := readLine(rd)
		if err == io.EOF {
			rt.TryClaim(rest.End)
			return nil
		}
		var long *longLineError
		if err != nil && !errors.As(err, &long) {
			return fmt.Errorf("nnbeam: %s: %w", path, err)
		}
		pos = rest.Start - 1 + n
		number++
	}
	next := pos + markBytes // where to record the next mark
	whole := compressed(path)
	if whole && !rt.TryClaim(int64(0)) {
		return nil
	}
	for whole || rt.TryClaim(pos) {
		line, n, err := readLine(rd)
		var long *longLineError
		switch {
		case err == io.EOF:
			if len(line) > 0 {
				emit(Line{File: path, Number: number, Text: trimEOL(line)})
			}
			rt.TryClaim(rest.End)
			return nil
		case errors.As(err, &long):
			emit(Line{File: path, Number: number, Err: long.Error()})
		case err != nil:
			return fmt.Errorf("nnbeam: %s:%d: %w", path, number, err)
		default:
			emit(Line{File: path, Number: number, Text: trimEOL(line)})
		}
		pos += n
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

// MaxLineBytes is the length in bytes of the longest line, without its
// line end, that ReadLines reads; a longer one comes as a Line with an
// Err, rather than exhaust a worker's memory or fail the job.
const MaxLineBytes = 16 << 20

// maxLineBytes is MaxLineBytes, a variable for the tests.
var maxLineBytes int64 = MaxLineBytes

// readLine reads the next line of rd and returns it with its "\n", if it
// has one, and the bytes it took, len(line). At the end of the input it
// returns io.EOF, with the last line if it does not end in "\n". A line
// longer than maxLineBytes, its line end left out, is read up to its
// "\n" but not kept: readLine returns "", the bytes it took and a
// *longLineError, holding no more than maxLineBytes+2 bytes of it (as
// many as a line it keeps) at any time.
func readLine(rd *bufio.Reader) (string, int64, error) {
	chunk, err := rd.ReadSlice('\n')
	if err != bufio.ErrBufferFull && int64(len(chunk)) <= maxLineBytes {
		return string(chunk), int64(len(chunk)), err
	}
	// A line longer than the buffer, or than the limit: kept while it may
	// be no longer than the limit, read past after that.
	var (
		line []byte  // the line, while it is kept
		keep = true  // whether line holds all of it
		n    int64   // the bytes read
		head []byte  // its first bytes, for the error
		tail [2]byte // its last two bytes, to find its line end
	)
	for {
		if keep && n+int64(len(chunk)) <= maxLineBytes+2 {
			line = append(line, chunk...)
		} else {
			line, keep = nil, false
		}
		if len(head) < excerpt.MaxQuoted {
			head = append(head, chunk[:min(len(chunk), excerpt.MaxQuoted-len(head))]...)
		}
		switch len(chunk) {
		case 0:
		case 1:
			tail = [2]byte{tail[1], chunk[0]}
		default:
			tail = [2]byte{chunk[len(chunk)-2], chunk[len(chunk)-1]}
		}
		n += int64(len(chunk))
		if err != bufio.ErrBufferFull {
			break
		}
		chunk, err = rd.ReadSlice('\n')
	}
	if err != nil && err != io.EOF {
		return "", n, err
	}
	// The length of the line without "\n" or "\r\n", as trimEOL cuts it.
	size := n
	if tail[1] == '\n' {
		size--
		if tail[0] == '\r' {
			size--
		}
	} else if tail[1] == '\r' {
		size--
	}
	if size <= maxLineBytes {
		return string(line), n, err
	}
	return "", n, &longLineError{size: size, head: string(head)}
}

// longLineError is the error of a line longer than maxLineBytes.
type longLineError struct {
	size int64  // the length of the line in bytes, without its line end
	head string // its first bytes, up to excerpt.MaxQuoted of them
}

// Error says how long the line is and quotes its start, as excerpt.Quote
// quotes a long piece of input: line longer than the limit of 16777216
// bytes: "5.1,3.5,1.4,…"… (1073741824 bytes).
func (e *longLineError) Error() string {
	head := e.head
	// A character cut at the end of the head is left out whole.
	for range utf8.UTFMax - 1 {
		if r, size := utf8.DecodeLastRuneInString(head); r != utf8.RuneError || size != 1 {
			break
		}
		head = head[:len(head)-1]
	}
	return fmt.Sprintf("line longer than the limit of %d bytes: %q… (%d bytes)", maxLineBytes, head, e.size)
}

// trimEOL returns line without its "\n" or "\r\n".
func trimEOL(line string) string {
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r")
}
