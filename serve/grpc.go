package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	gproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	grpcmd "google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/neuralgo/nn/serve/inferencepb"
)

// NewGRPCServer returns a gRPC server of the Open Inference Protocol's
// service, inference.GRPCInferenceService, over the models of s: the
// same models, versions, token, limits and batching as its HTTP
// endpoints, with the gRPC requests counted in its metrics (the label
// protocol="grpc"). Its options come first, then opts: credentials for
// TLS (grpc.Creds), for instance. It receives messages of at most
// Options.MaxBodyBytes and header lists of at most 64 KiB, gives a new
// connection 5 seconds to complete its handshake, and closes connections
// idle for 2 minutes, as nn serve's HTTP server does.
//
// The caller serves it (grpc.Server.Serve) and stops it
// (GracefulStop) before it closes s.
func (s *Server) NewGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	o := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(min(s.opts.MaxBodyBytes, 1<<31-1))),
		// ModelInfer reads its message on the wire (modelInfer).
		grpc.ForceServerCodecV2(wireCodec{encoding.GetCodecV2(gproto.Name)}),
		grpc.MaxHeaderListSize(64 << 10),
		grpc.ConnectionTimeout(5 * time.Second),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 2 * time.Minute}),
		grpc.ChainUnaryInterceptor(s.intercept),
		grpc.StatsHandler(rpcEnd{s}),
	}
	gs := grpc.NewServer(append(o, opts...)...)
	gs.RegisterService(&serviceDesc, grpcService{s: s})
	return gs
}

// grpcService is the Server's GRPCInferenceService.
type grpcService struct {
	pb.UnimplementedGRPCInferenceServiceServer
	s *Server
}

// stateKey is the context key of a gRPC request's reqState.
type stateKey struct{}

// requestState returns the reqState of the gRPC request of ctx, which
// rpcEnd.TagRPC put there.
func requestState(ctx context.Context) *reqState {
	if st, ok := ctx.Value(stateKey{}).(*reqState); ok {
		return st
	}
	return &reqState{} // a call that did not come through NewGRPCServer
}

// rpcEnd is the gRPC server's stats handler: it gives each call its
// reqState, and releases what the call reserved once it has ended, its
// answer sent, as an HTTP request releases it once its response is
// written.
type rpcEnd struct{ s *Server }

// TagRPC gives the call its reqState.
func (h rpcEnd) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, stateKey{}, &reqState{})
}

// HandleRPC releases the reservation of the call at its end.
func (h rpcEnd) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	if _, ok := rs.(*stats.End); ok {
		h.s.release(requestState(ctx))
	}
}

// TagConn returns ctx.
func (h rpcEnd) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn does nothing.
func (h rpcEnd) HandleConn(context.Context, stats.ConnStats) {}

// grpcEndpoints are the endpoint labels of the methods, as the HTTP
// endpoints that do the same are labelled.
var grpcEndpoints = map[string]string{
	"ServerLive": "health", "ServerReady": "health", "ModelReady": "ready",
	"ServerMetadata": "metadata", "ModelMetadata": "metadata", "ModelInfer": "infer",
	"RepositoryIndex": "repository", "RepositoryModelLoad": "repository", "RepositoryModelUnload": "repository",
}

// intercept checks the token of a gRPC request (but ServerLive's), as
// the HTTP endpoints do, gives the handler a reqState, and counts and
// logs the request. A panic in a handler, which gRPC does not recover,
// is answered with Internal.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	method := info.FullMethod[strings.LastIndexByte(info.FullMethod, '/')+1:]
	st := requestState(ctx)
	st.endpoint = grpcEndpoints[method]
	if st.endpoint == "" {
		st.endpoint = "other"
	}
	tagged := ctx.Value(stateKey{}) != nil
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in a gRPC handler", "method", method, "panic", p, "stack", string(debug.Stack()))
			resp, err = nil, status.Error(codes.Internal, "internal error")
		}
		if !tagged || err != nil {
			// Nothing to send: release now, not at the call's end.
			s.release(st)
		}
		s.finishGRPC(ctx, method, st, err, start)
	}()
	if method != "ServerLive" && !s.authorizedGRPC(ctx) {
		return nil, status.Error(codes.Unauthenticated, `missing or wrong bearer token: send the metadata "authorization: Bearer <token>"`)
	}
	if !tagged {
		ctx = context.WithValue(ctx, stateKey{}, st)
	}
	return handler(ctx, req)
}

// authorizedGRPC reports whether the metadata of ctx carries the token,
// "authorization: Bearer <token>", compared as authorized compares it.
func (s *Server) authorizedGRPC(ctx context.Context) bool {
	if s.auth == nil {
		return true
	}
	md, _ := grpcmd.FromIncomingContext(ctx)
	v := md.Get("authorization")
	h := ""
	if len(v) > 0 {
		h = v[0]
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimLeft(token, " ")
	sum := sha256.Sum256([]byte(token))
	ok := subtle.ConstantTimeCompare(sum[:], s.auth[:]) == 1
	return strings.EqualFold(scheme, "Bearer") && ok
}

// finishGRPC counts and logs a gRPC request, as finish does an HTTP one;
// its code is the gRPC status code's name.
func (s *Server) finishGRPC(ctx context.Context, method string, st *reqState, err error, start time.Time) {
	d := time.Since(start)
	code := status.Code(err)
	m := s.metrics
	m.requests.WithLabelValues(st.model, st.endpoint, code.String(), "grpc").Inc()
	m.latency.WithLabelValues(st.model, st.endpoint, "grpc").Observe(d.Seconds())
	remote := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		remote = p.Addr.String()
	}
	if code != codes.OK {
		m.errors.WithLabelValues(st.model, st.endpoint, "grpc").Inc()
		level := slog.LevelInfo
		switch code {
		case codes.Internal, codes.Unavailable, codes.Unknown, codes.DataLoss:
			level = slog.LevelWarn
		}
		if s.log.Enabled(ctx, level) {
			s.log.LogAttrs(ctx, level, "request failed",
				slog.String("protocol", "grpc"), slog.String("method", method), slog.String("model", st.model),
				slog.String("code", code.String()), slog.String("error", status.Convert(err).Message()), slog.String("remote", remote),
				slog.Duration("duration", d))
		}
		return
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.LogAttrs(ctx, slog.LevelDebug, "request",
			slog.String("protocol", "grpc"), slog.String("method", method), slog.String("model", st.model),
			slog.String("code", code.String()), slog.Int("rows", st.rows), slog.String("remote", remote),
			slog.Duration("duration", d))
	}
}

// grpcCodes are the gRPC status codes of the HTTP statuses of
// httpErrors, as KServe maps them.
var grpcCodes = map[int]codes.Code{
	400: codes.InvalidArgument,
	401: codes.Unauthenticated,
	403: codes.PermissionDenied,
	404: codes.NotFound,
	413: codes.ResourceExhausted,
	415: codes.InvalidArgument,
	422: codes.InvalidArgument,
	503: codes.Unavailable,
}

// grpcError returns the gRPC status error of err.
func grpcError(err *httpError) error {
	c, ok := grpcCodes[err.Status]
	if !ok {
		c = codes.Internal
	}
	return status.Error(c, err.Msg)
}

// ServerLive answers that the server is live.
func (g grpcService) ServerLive(context.Context, *pb.ServerLiveRequest) (*pb.ServerLiveResponse, error) {
	return &pb.ServerLiveResponse{Live: true}, nil
}

// ServerReady answers whether the server is ready: until it is closed.
func (g grpcService) ServerReady(context.Context, *pb.ServerReadyRequest) (*pb.ServerReadyResponse, error) {
	return &pb.ServerReadyResponse{Ready: !g.s.closed.Load()}, nil
}

// ModelReady answers whether a model, or a version of it, is being
// served; an unknown model is NotFound.
func (g grpcService) ModelReady(ctx context.Context, req *pb.ModelReadyRequest) (*pb.ModelReadyResponse, error) {
	m := g.s.model(req.Name)
	if m == nil {
		return nil, grpcError(g.s.unknownModel(req.Name))
	}
	requestState(ctx).model = m.name
	_, err := m.version(req.Version)
	return &pb.ModelReadyResponse{Ready: err == nil}, nil
}

// ServerMetadata answers the server's name, version and extensions.
func (g grpcService) ServerMetadata(context.Context, *pb.ServerMetadataRequest) (*pb.ServerMetadataResponse, error) {
	return &pb.ServerMetadataResponse{Name: "neuralgo-nn", Version: g.s.version, Extensions: []string{"model_repository"}}, nil
}

// ModelMetadata answers the metadata of a model's version: the versions
// served, and the inputs and outputs, as GET /v2/models/{name} does.
func (g grpcService) ModelMetadata(ctx context.Context, req *pb.ModelMetadataRequest) (*pb.ModelMetadataResponse, error) {
	sl, herr := g.s.lookup(req.Name, req.Version)
	if herr != nil {
		return nil, grpcError(herr)
	}
	requestState(ctx).model = sl.name
	e := sl.cur.Load()
	tensors := func(ts []tensorMeta) []*pb.ModelMetadataResponse_TensorMetadata {
		out := make([]*pb.ModelMetadataResponse_TensorMetadata, len(ts))
		for i, t := range ts {
			shape := make([]int64, len(t.Shape))
			for d, n := range t.Shape {
				shape[d] = int64(n)
			}
			out[i] = &pb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: shape}
		}
		return out
	}
	return &pb.ModelMetadataResponse{
		Name: sl.name, Versions: sl.m.set.Load().labels(), Platform: platform,
		Inputs: tensors(e.ins), Outputs: tensors(e.outs),
	}, nil
}

// RepositoryIndex answers the repository index, as POST
// /v2/repository/index does.
func (g grpcService) RepositoryIndex(ctx context.Context, req *pb.RepositoryIndexRequest) (*pb.RepositoryIndexResponse, error) {
	idx := g.s.index(req.Ready)
	res := &pb.RepositoryIndexResponse{Models: make([]*pb.RepositoryIndexResponse_ModelIndex, len(idx))}
	for i, x := range idx {
		res.Models[i] = &pb.RepositoryIndexResponse_ModelIndex{Name: x.Name, Version: x.Version, State: x.State, Reason: x.Reason}
	}
	return res, nil
}

// RepositoryModelLoad loads a model, as POST
// /v2/repository/models/{name}/load does.
func (g grpcService) RepositoryModelLoad(ctx context.Context, req *pb.RepositoryModelLoadRequest) (*pb.RepositoryModelLoadResponse, error) {
	if err := g.s.controlled(req.Parameters); err != nil {
		return nil, err
	}
	m, herr := g.s.loadModel(req.ModelName)
	if m != nil {
		requestState(ctx).model = m.name
	}
	if herr != nil {
		return nil, grpcError(herr)
	}
	return &pb.RepositoryModelLoadResponse{}, nil
}

// RepositoryModelUnload unloads a model, as POST
// /v2/repository/models/{name}/unload does.
func (g grpcService) RepositoryModelUnload(ctx context.Context, req *pb.RepositoryModelUnloadRequest) (*pb.RepositoryModelUnloadResponse, error) {
	if err := g.s.controlled(req.Parameters); err != nil {
		return nil, err
	}
	m := g.s.model(req.ModelName)
	if m == nil {
		return nil, grpcError(g.s.unknownModel(req.ModelName))
	}
	requestState(ctx).model = m.name
	g.s.unloadModel(m)
	return &pb.RepositoryModelUnloadResponse{}, nil
}

// controlled returns the error of a load or unload request that the
// Server does not take: without Options.ModelControl, or with parameters.
func (s *Server) controlled(params map[string]*pb.ModelRepositoryParameter) error {
	if !s.opts.ModelControl {
		return grpcError(errNoControl)
	}
	if len(params) > 0 {
		return status.Error(codes.InvalidArgument, "parameters: the repository methods take none")
	}
	return nil
}

// ModelInfer predicts the rows of req, as the server's own handler does
// with the request on the wire (see wireInfer): it is the method of the
// generated interface, for a caller that holds the request decoded.
func (g grpcService) ModelInfer(ctx context.Context, req *pb.ModelInferRequest) (*pb.ModelInferResponse, error) {
	msg, err := proto.Marshal(req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return g.modelInfer(ctx, msg)
}

// modelInfer predicts the rows of the ModelInferRequest msg, on the wire,
// with the version it names (the latest if none), through the same
// table, admission, batcher and checks as POST /v2/models/{name}/infer.
// The message is read in place: its tensors are checked and counted
// first, then the request reserves what its rows need, and only then are
// its values read into the table. The answer's outputs are in
// raw_output_contents if the request's inputs were in
// raw_input_contents, and in typed contents otherwise.
func (g grpcService) modelInfer(ctx context.Context, msg []byte) (*pb.ModelInferResponse, error) {
	s := g.s
	st := requestState(ctx)
	h, err := readHeader(msg)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sl, herr := s.lookup(h.model, h.version)
	if herr != nil {
		return nil, grpcError(herr)
	}
	st.model = sl.name
	b, e := s.begin(sl)
	defer func() {
		// The pooled buffer keeps nothing of the message.
		ins := b.t.gins[:cap(b.t.gins)]
		for k := range ins {
			ins[k].c, ins[k].raw = nil, nil
		}
		b.put()
	}()
	outputs, rows, herr := decodeGRPC(&b.t, msg)
	if herr != nil {
		return nil, grpcError(herr)
	}
	// The message, read whole by gRPC (at most MaxBodyBytes), and what
	// its rows need.
	size := int64(len(msg))
	n := grpcNeed(e, size, rows)
	got, ok := s.inflight.acquire(n)
	if !ok {
		s.metrics.refused.WithLabelValues(st.model).Inc()
		return nil, status.Error(codes.Unavailable, fmt.Sprintf(
			"overloaded: the requests in flight hold %s of the %s that the server gives them, and this one, a message of %s and %d rows, needs %s: retry later, or send fewer rows at a time",
			bytesText(s.inflight.held.Load()), bytesText(s.inflight.limit), bytesText(size), rows, bytesText(n)))
	}
	st.held = got
	s.reading(sl, st)
	if herr = fillGRPC(&b.t, rows); herr == nil {
		herr = s.predict(sl, st, b)
	}
	if herr != nil {
		return nil, grpcError(herr)
	}
	return grpcAnswer(sl, e, b, h.id, h.raw > 0, outputs), nil
}

// grpcNeed returns the bytes that a gRPC request to e holds: its message
// of size bytes, read whole, e.reqBytes, and e.rowBytes for each of its
// rows.
func grpcNeed(e *entry, size int64, rows int) int64 {
	return int64(min(float64(size+e.reqBytes)+float64(rows)*float64(e.rowBytes), 1<<62))
}

// wireInfer is a ModelInferRequest as it came on the wire, which the
// server's codec hands over without decoding it.
type wireInfer struct{ msg []byte }

// wireCodec is the server's codec: gRPC's protocol buffer codec, but for
// a wireInfer, which takes a copy of the message's bytes as they are.
type wireCodec struct{ proto encoding.CodecV2 }

// Marshal marshals v as gRPC's codec does.
func (c wireCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

// Unmarshal unmarshals data into v as gRPC's codec does, or copies it
// into a wireInfer.
func (c wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if w, ok := v.(*wireInfer); ok {
		w.msg = data.Materialize()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

// Name returns "proto", the codec's content subtype.
func (c wireCodec) Name() string { return "proto" }

// serviceDesc is the generated description of GRPCInferenceService with
// ModelInfer's handler replaced by wireInferHandler.
var serviceDesc = func() grpc.ServiceDesc {
	d := pb.GRPCInferenceService_ServiceDesc
	d.Methods = slices.Clone(d.Methods)
	for i := range d.Methods {
		if d.Methods[i].MethodName == "ModelInfer" {
			d.Methods[i].Handler = wireInferHandler
		}
	}
	return d
}()

// wireInferHandler is the handler of ModelInfer: it takes the request as
// a wireInfer.
func wireInferHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(wireInfer)
	if err := dec(in); err != nil {
		return nil, err
	}
	g := srv.(grpcService)
	if interceptor == nil {
		return g.modelInfer(ctx, in.msg)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: pb.GRPCInferenceService_ModelInfer_FullMethodName}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return g.modelInfer(ctx, req.(*wireInfer).msg)
	})
}
