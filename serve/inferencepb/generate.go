// Package inferencepb holds the Go types and gRPC stubs of the Open Inference
// Protocol (KServe's "predict API v2", also served by NVIDIA Triton), the
// gRPC form of the protocol that nn serve speaks. The serve package builds
// its gRPC server on them, and a Go client of nn serve can use them too:
// NewGRPCInferenceServiceClient over a grpc.ClientConn gives every rpc.
//
// grpc_predict_v2.proto, written for this project, is the source of both
// generated files. It is wire-compatible with KServe's and Triton's
// definitions (package inference, service GRPCInferenceService), so clients
// generated from theirs work against nn serve as well.
//
// To regenerate grpc_predict_v2.pb.go and grpc_predict_v2_grpc.pb.go, with
// protoc from Debian's protobuf-compiler:
//
//	go generate ./serve/inferencepb
//
// That builds protoc-gen-go at the version of google.golang.org/protobuf in
// go.mod, installs protoc-gen-go-grpc at the version pinned below into this
// directory (its own module, not required by go.mod, so go build cannot take
// it with a version), runs protoc with both, and removes the two plugins
// again.
package inferencepb

//go:generate go build -o protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
//go:generate env GOBIN=$PWD go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//go:generate protoc --plugin=protoc-gen-go=protoc-gen-go --plugin=protoc-gen-go-grpc=protoc-gen-go-grpc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative grpc_predict_v2.proto
//go:generate rm protoc-gen-go protoc-gen-go-grpc
