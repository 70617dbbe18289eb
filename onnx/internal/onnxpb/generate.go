// Package onnxpb holds the Go types of ONNX's protocol buffers, generated
// from onnx.proto as ONNX 1.12 ships it (IR version 8; Debian's
// python3-onnx installs it as /usr/lib/python3/dist-packages/onnx/onnx.proto).
// onnx.proto is ONNX's, under the Apache License 2.0.
//
// To regenerate onnx.pb.go, with protoc from Debian's protobuf-compiler:
//
//	go generate ./onnx/internal/onnxpb
package onnxpb

//go:generate go build -o protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
//go:generate protoc --plugin=protoc-gen-go=protoc-gen-go --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/neuralgo/nn/onnx/internal/onnxpb onnx.proto
//go:generate rm protoc-gen-go
