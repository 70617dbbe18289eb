package nn

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// idxBytes returns an IDX file of unsigned bytes with the given dimensions
// and data.
func idxBytes(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadIDX(t *testing.T) {
	// Two 2×3 images.
	images := idxBytes([]uint32{2, 2, 3}, []byte{0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6})
	labels := idxBytes([]uint32{4}, []byte{7, 2, 1, 0})
	for i, test := range []struct {
		name string
		in   []byte
		dims []int
		data []byte
	}{
		{"images", images, []int{2, 2, 3}, []byte{0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6}},
		{"gzipped images", gzipBytes(t, images), []int{2, 2, 3}, []byte{0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6}},
		{"labels", labels, []int{4}, []byte{7, 2, 1, 0}},
		{"gzipped labels", gzipBytes(t, labels), []int{4}, []byte{7, 2, 1, 0}},
		{"no items", idxBytes([]uint32{0, 28, 28}, nil), []int{0, 28, 28}, []byte{}},
	} {
		dims, data, err := ReadIDX(bytes.NewReader(test.in))
		if err != nil {
			t.Errorf("%d %s: unexpected error: %v", i, test.name, err)
			continue
		}
		if !reflect.DeepEqual(dims, test.dims) {
			t.Errorf("%d %s: dims: got %v, want %v", i, test.name, dims, test.dims)
		}
		if !bytes.Equal(data, test.data) {
			t.Errorf("%d %s: data: got %v, want %v", i, test.name, data, test.data)
		}
	}
}

func TestReadIDXErrors(t *testing.T) {
	labels := idxBytes([]uint32{4}, []byte{7, 2, 1, 0})
	gz := gzipBytes(t, labels)
	corruptGz := bytes.Clone(gz)
	corruptGz[len(corruptGz)-5] ^= 0xff // the CRC-32 of the gzip trailer
	for i, test := range []struct {
		name string
		in   []byte
		is   error  // if not nil, checked with errors.Is
		msg  string // a part of the message
	}{
		{"empty", nil, io.ErrUnexpectedEOF, "magic number"},
		{"short magic", []byte{0, 0}, io.ErrUnexpectedEOF, "magic number"},
		{"bad magic", []byte{1, 0, 8, 1, 0, 0, 0, 0}, nil, "bad magic number"},
		{"text file", []byte("sepal_length,species\n"), nil, "bad magic number"},
		{"wrong type: float", []byte{0, 0, 0x0d, 1, 0, 0, 0, 0}, nil, "unsupported data type 0x0d"},
		{"no dimensions", []byte{0, 0, 8, 0}, nil, "no dimensions"},
		{"truncated dimensions", []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0}, io.ErrUnexpectedEOF, "reading 3 dimensions"},
		{"truncated data", labels[:len(labels)-1], io.ErrUnexpectedEOF, "got 3 of 4 bytes"},
		{"truncated gzip", gz[:len(gz)-10], io.ErrUnexpectedEOF, ""},
		{"corrupt gzip", corruptGz, gzip.ErrChecksum, ""},
		{"gzip magic only", []byte{0x1f, 0x8b}, io.ErrUnexpectedEOF, ""},
		{"trailing data", append(bytes.Clone(labels), 9), nil, "trailing data after 4 bytes"},
		// 65536·65536 = 1<<32 elements overflow the limit of 1<<31.
		{"absurd dimensions", idxBytes([]uint32{65536, 65536}, nil), nil, "dimensions too large"},
		{"huge claim, little data", idxBytes([]uint32{1 << 30}, []byte{1, 2}), io.ErrUnexpectedEOF, "got 2 of 1073741824 bytes"},
	} {
		dims, _, err := ReadIDX(bytes.NewReader(test.in))
		if err == nil {
			t.Errorf("%d %s: got dims %v, want error", i, test.name, dims)
			continue
		}
		if test.is != nil && !errors.Is(err, test.is) {
			t.Errorf("%d %s: got %v, want it to wrap %v", i, test.name, err, test.is)
		}
		if !strings.Contains(err.Error(), test.msg) {
			t.Errorf("%d %s: got %q, want it to contain %q", i, test.name, err, test.msg)
		}
	}
}

func TestLoadIDX(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, p []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, p, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	images := write("images.gz", gzipBytes(t, idxBytes([]uint32{2, 1, 3}, []byte{0, 51, 255, 102, 204, 153})))
	labels := write("labels", idxBytes([]uint32{2}, []byte{9, 3}))

	x, err := LoadIDXImages(images)
	if err != nil {
		t.Fatal(err)
	}
	// Each pixel is x/255: 51/255 = 0.2, 102/255 = 0.4 and so on.
	want := mat.NewDense(2, 3, []float64{0, 0.2, 1, 0.4, 0.8, 0.6})
	if !mat.EqualApprox(x, want, 1e-15) {
		t.Errorf("images: got %v, want %v", mat.Formatted(x), mat.Formatted(want))
	}
	y, err := LoadIDXLabels(labels)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(y, []int{9, 3}) {
		t.Errorf("labels: got %v, want [9 3]", y)
	}

	for i, test := range []struct {
		load func(string) error
		path string
		msg  string
	}{
		{loadIDXImagesErr, labels, "1 dimensions [2], want 3"},
		{loadIDXLabelsErr, images, "3 dimensions [2 1 3], want 1"},
		{loadIDXImagesErr, write("empty", idxBytes([]uint32{0, 28, 28}, nil)), "no images"},
		{loadIDXLabelsErr, write("nolabels", idxBytes([]uint32{0}, nil)), "no labels"},
		{loadIDXImagesErr, write("truncated", idxBytes([]uint32{2, 1, 3}, []byte{1})), "truncated"},
		{loadIDXLabelsErr, write("text.csv", []byte("a,b\n1,2\n")), "bad magic number"},
	} {
		err := test.load(test.path)
		if err == nil || !strings.HasPrefix(err.Error(), test.path+": ") || !strings.Contains(err.Error(), test.msg) {
			t.Errorf("%d: got %v, want an error starting with the path and containing %q", i, err, test.msg)
		}
	}
	missing := filepath.Join(dir, "missing")
	if _, err := LoadIDXLabels(missing); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("got %v, want a not-exist error naming the path", err)
	}
}

func loadIDXImagesErr(path string) error { _, err := LoadIDXImages(path); return err }
func loadIDXLabelsErr(path string) error { _, err := LoadIDXLabels(path); return err }

// TestLoadFashionMNIST loads the real Fashion-MNIST files when the machine
// has them installed.
func TestLoadFashionMNIST(t *testing.T) {
	const dir = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")); err != nil {
		t.Skipf("Fashion-MNIST is not installed in %s: %v", dir, err)
	}
	if testing.Short() {
		t.Skip("loading Fashion-MNIST is slow; skipped with -short")
	}
	for _, test := range []struct {
		prefix string
		n      int
	}{
		{"train", 60000},
		{"t10k", 10000},
	} {
		x, err := LoadIDXImages(filepath.Join(dir, test.prefix+"-images-idx3-ubyte.gz"))
		if err != nil {
			t.Fatal(err)
		}
		// 28×28 = 784 pixels per image.
		if r, c := x.Dims(); r != test.n || c != 784 {
			t.Errorf("%s images: got %d×%d, want %d×784", test.prefix, r, c, test.n)
		}
		if lo, hi := mat.Min(x), mat.Max(x); lo != 0 || hi != 1 {
			t.Errorf("%s images: got range [%v, %v], want [0, 1]", test.prefix, lo, hi)
		}
		y, err := LoadIDXLabels(filepath.Join(dir, test.prefix+"-labels-idx1-ubyte.gz"))
		if err != nil {
			t.Fatal(err)
		}
		if len(y) != test.n {
			t.Errorf("%s labels: got %d, want %d", test.prefix, len(y), test.n)
		}
		// Fashion-MNIST is balanced: n/10 examples of each of 10 classes.
		counts := make([]int, 10)
		for _, l := range y {
			if l < 0 || l > 9 {
				t.Fatalf("%s labels: got label %d, want 0 to 9", test.prefix, l)
			}
			counts[l]++
		}
		for c, got := range counts {
			if got != test.n/10 {
				t.Errorf("%s labels: class %d: got %d examples, want %d", test.prefix, c, got, test.n/10)
			}
		}
	}
}

// A small gzip file of zeros cannot make the reader take what its
// dimensions claim: data expanding more than maxGzipRatio times its
// compressed length is refused as it arrives.
func TestReadIDXGzipBomb(t *testing.T) {
	const n = 64 << 20 // 64 MiB of zeros, about 64 KiB compressed
	header := binary.BigEndian.AppendUint32([]byte{0, 0, 8, 1}, n)
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(header)
	w.Write(make([]byte, n))
	w.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := ReadIDX(bytes.NewReader(b.Bytes()))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "expands more than 100 times") {
		t.Errorf("ReadIDX of %d bytes gzipped to %d: got %v, want an error for the ratio", n, b.Len(), err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
		t.Errorf("ReadIDX of a gzip bomb allocated %d MiB before refusing it, want at most 16", grown>>20)
	}
	// Real data passes: dark images of a few random grey levels compress
	// some ten times.
	img := make([]byte, 2<<20)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range img {
		if rnd.IntN(8) == 0 {
			img[i] = byte(rnd.IntN(4) * 85)
		}
	}
	m := len(img)
	header = binary.BigEndian.AppendUint32([]byte{0, 0, 8, 1}, uint32(m))
	if _, data, err := ReadIDX(bytes.NewReader(gzipBytes(t, append(header, img...)))); err != nil || len(data) != m {
		t.Errorf("ReadIDX of ordinary gzip data: %d bytes, %v", len(data), err)
	}
}
