// Command load drives a model of nn serve with closed-loop concurrency over
// either of its inference protocols: the Open Inference Protocol's REST form
// (POST /v2/models/NAME/infer with a JSON body) or its gRPC form (ModelInfer
// of inference.GRPCInferenceService). Each of -c goroutines sends its next
// request as soon as the answer to the last one has arrived, for -warmup and
// then -d; only the requests sent during -d count.
//
// Usage:
//
//	load -protocol rest -addr 127.0.0.1:8080 -model iris -rows 1 -c 16 -d 10s
//	load -protocol grpc -addr 127.0.0.1:9090 -model iris -rows 100 -c 64 -conns 2 -raw
//
// It prints one tab-separated line: the protocol, rows per request,
// concurrency, requests per second, rows per second, the median and 99th
// percentile of the latency measured on the client, and the count of failed
// requests. The first failure is printed to standard error.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/neuralgo/nn/serve/inferencepb"
)

// config holds the command's flags.
type config struct {
	protocol string
	addr     string
	model    string
	rows     int
	features int
	c        int
	conns    int
	raw      bool
	d        time.Duration
	warmup   time.Duration
	token    string
}

// worker is what one goroutine needs to send its requests: do sends one and
// waits for its answer.
type worker interface {
	do() error
}

func main() {
	var cfg config
	flag.StringVar(&cfg.protocol, "protocol", "rest", "the protocol: rest (JSON over HTTP) or grpc")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "the server's address, host:port (of its HTTP or its gRPC listener)")
	flag.StringVar(&cfg.model, "model", "iris", "the name of the model")
	flag.IntVar(&cfg.rows, "rows", 1, "rows per request")
	flag.IntVar(&cfg.features, "features", 4, "features per row")
	flag.IntVar(&cfg.c, "c", 16, "concurrency: requests in flight at once")
	flag.IntVar(&cfg.conns, "conns", 1, "gRPC connections, which the goroutines share round-robin")
	flag.BoolVar(&cfg.raw, "raw", false, "gRPC: send the input in raw_input_contents rather than contents.fp64_contents")
	flag.DurationVar(&cfg.d, "d", 10*time.Second, "how long to measure")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "how long to send requests before measuring")
	flag.StringVar(&cfg.token, "token", "", "a bearer token to send with each request")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// run checks the flags, drives the server and prints the result line.
func run(cfg config) error {
	switch {
	case flag.NArg() > 0:
		return fmt.Errorf("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	case cfg.rows < 1 || cfg.features < 1 || cfg.c < 1 || cfg.conns < 1:
		return errors.New("-rows, -features, -c and -conns must be at least 1")
	case cfg.d <= 0 || cfg.warmup < 0:
		return errors.New("-d must be positive and -warmup not negative")
	}
	cfg.addr = strings.TrimPrefix(strings.TrimPrefix(cfg.addr, "http://"), "https://")
	values := irisRows(cfg.rows, cfg.features)
	start := time.Now()
	measure := start.Add(cfg.warmup)
	end := measure.Add(cfg.d)
	// A request still unanswered well after the end is given up, so that a
	// stuck server cannot keep the command running.
	ctx, cancel := context.WithDeadline(context.Background(), end.Add(30*time.Second))
	defer cancel()

	var workers []worker
	label := cfg.protocol
	switch cfg.protocol {
	case "rest":
		var err error
		if workers, err = restWorkers(ctx, cfg, values); err != nil {
			return err
		}
	case "grpc":
		var closeConns func()
		var err error
		workers, closeConns, err = grpcWorkers(ctx, cfg, values)
		if err != nil {
			return err
		}
		defer closeConns()
		if cfg.raw {
			label += " raw"
		}
		if cfg.conns > 1 {
			label += fmt.Sprintf(" (%d conns)", cfg.conns)
		}
	default:
		return fmt.Errorf("-protocol %q: want rest or grpc", cfg.protocol)
	}

	// Each goroutine keeps its latencies in its own slice, sized for a
	// generous 200,000 requests/s in all, so that recording one does not
	// allocate.
	perG := int(cfg.d.Seconds()*200000)/cfg.c + 1024
	lats := make([][]time.Duration, cfg.c)
	fails := make([]int, cfg.c)
	var firstErr sync.Once
	var wg sync.WaitGroup
	for i, w := range workers {
		lats[i] = make([]time.Duration, 0, perG)
		wg.Go(func() {
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := w.do()
				lat := time.Since(t0)
				counted := !t0.Before(measure)
				if err != nil {
					firstErr.Do(func() { fmt.Fprintln(os.Stderr, "load: first error:", err) })
					if counted {
						fails[i]++
					}
					if ctx.Err() != nil {
						return
					}
					continue
				}
				if counted {
					lats[i] = append(lats[i], lat)
				}
			}
		})
	}
	wg.Wait()

	var all []time.Duration
	errs := 0
	for i := range lats {
		all = append(all, lats[i]...)
		errs += fails[i]
	}
	slices.Sort(all)
	rps := float64(len(all)) / cfg.d.Seconds()
	fmt.Printf("%s\t%d\t%d\t%.0f\t%.0f\t%s\t%s\t%d\n", label, cfg.rows, cfg.c, rps, rps*float64(cfg.rows),
		formatLatency(percentile(all, 0.50)), formatLatency(percentile(all, 0.99)), errs)
	return nil
}

// irisRows returns rows×features values in row-major order, like the
// measurements of iris flowers: the four of the first flower, 5.1, 3.5, 1.4
// and 0.2, cycled over the features and varied a little, deterministically,
// by row.
func irisRows(rows, features int) []float64 {
	base := [4]float64{5.1, 3.5, 1.4, 0.2}
	v := make([]float64, rows*features)
	for r := range rows {
		for f := range features {
			v[r*features+f] = base[f%4] + 0.1*float64((r*7+f*3)%11-5)
		}
	}
	return v
}

// percentile returns the p-quantile of sorted latencies, by the nearest
// rank, or 0 if there are none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// formatLatency writes d as wrk does, with two decimals and the unit us, ms
// or s, so that the rows of both benchmark scripts read alike.
func formatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 2, 64) + "us"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
}

// restWorker sends V2 JSON requests over HTTP, reusing one request and one
// body reader.
type restWorker struct {
	client *http.Client
	req    *http.Request
	body   []byte
	rd     *bytes.Reader
}

// restWorkers returns cfg.c workers that share one HTTP client, whose
// transport keeps a connection per worker.
func restWorkers(ctx context.Context, cfg config, values []float64) ([]worker, error) {
	body := restBody(cfg.rows, cfg.features, values)
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        cfg.c,
		MaxIdleConnsPerHost: cfg.c,
		IdleConnTimeout:     90 * time.Second,
	}}
	url := "http://" + cfg.addr + "/v2/models/" + cfg.model + "/infer"
	ws := make([]worker, cfg.c)
	for i := range ws {
		w := &restWorker{client: client, body: body, rd: bytes.NewReader(body)}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if cfg.token != "" {
			req.Header.Set("Authorization", "Bearer "+cfg.token)
		}
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		w.req = req
		ws[i] = w
	}
	return ws, nil
}

// restBody returns the JSON body of a V2 inference request: one FP64 tensor
// "input" of shape [rows, features].
func restBody(rows, features int, values []float64) []byte {
	b := []byte(`{"inputs":[{"name":"input","shape":[`)
	b = strconv.AppendInt(b, int64(rows), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(features), 10)
	b = append(b, `],"datatype":"FP64","data":[`...)
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, "]}]}"...)
}

// do sends the request once and reads the whole answer, which must have
// status 200.
func (w *restWorker) do() error {
	w.rd.Reset(w.body)
	w.req.Body = io.NopCloser(w.rd)
	err := w.send()
	if err != nil {
		// After a failure the transport may still be writing the body of
		// the request it was given, so the next request gets a request and
		// a reader of its own.
		w.req = w.req.Clone(w.req.Context())
		w.rd = bytes.NewReader(w.body)
	}
	return err
}

// send sends w.req and reads the answer.
func (w *restWorker) send() error {
	resp, err := w.client.Do(w.req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("status %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// grpcWorker sends ModelInfer requests over one of the shared connections,
// reusing its request and response messages.
type grpcWorker struct {
	ctx  context.Context
	conn *grpc.ClientConn
	req  *pb.ModelInferRequest
	resp *pb.ModelInferResponse
}

// grpcWorkers dials cfg.conns connections and returns cfg.c workers spread
// over them round-robin, and a function that closes the connections.
func grpcWorkers(ctx context.Context, cfg config, values []float64) ([]worker, func(), error) {
	conns := make([]*grpc.ClientConn, cfg.conns)
	closeAll := func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}
	for i := range conns {
		c, err := grpc.NewClient(cfg.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		conns[i] = c
	}
	if cfg.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+cfg.token)
	}
	var raw []byte
	if cfg.raw {
		raw = make([]byte, 8*len(values))
		for i, v := range values {
			binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	}
	ws := make([]worker, cfg.c)
	for i := range ws {
		in := &pb.ModelInferRequest_InferInputTensor{
			Name:     "input",
			Datatype: "FP64",
			Shape:    []int64{int64(cfg.rows), int64(cfg.features)},
		}
		req := &pb.ModelInferRequest{
			ModelName: cfg.model,
			Inputs:    []*pb.ModelInferRequest_InferInputTensor{in},
		}
		if cfg.raw {
			req.RawInputContents = [][]byte{raw}
		} else {
			in.Contents = &pb.InferTensorContents{Fp64Contents: values}
		}
		ws[i] = &grpcWorker{ctx: ctx, conn: conns[i%len(conns)], req: req, resp: new(pb.ModelInferResponse)}
	}
	return ws, closeAll, nil
}

// do sends the request once. It calls the method on the connection itself,
// rather than through the generated client, so that the response message is
// reused.
func (w *grpcWorker) do() error {
	if err := w.conn.Invoke(w.ctx, pb.GRPCInferenceService_ModelInfer_FullMethodName, w.req, w.resp); err != nil {
		return err
	}
	if len(w.resp.Outputs) == 0 {
		return errors.New("a response without outputs")
	}
	return nil
}
