// Package onnx writes nn models as ONNX models and reads multilayer
// perceptrons from ONNX models, so that a model trained with nn can be
// served by ONNX Runtime, Triton or KServe, and a network trained in
// PyTorch can be used with nn.
//
// Write (and WriteNetwork) turns an nn.Model into an ONNX graph of the
// whole prediction path: encoding, scaler, layers, activations and, for a
// classifier, the label. Read turns an ONNX graph of a feed-forward
// network, as torch.onnx.export writes one for an nn.Sequential of Linear
// layers and activations, or as Write writes one, back into an nn.Model.
//
// The files are ONNX IR version 8 with operator set 17: ONNX Runtime 1.30
// runs them and the checker of ONNX 1.12 (Debian 12's python3-onnx)
// accepts them with full_check. The protocol buffer types are generated
// from ONNX's own onnx.proto into an internal package.
//
// # Errors
//
// Read returns an error for anything it does not support or cannot
// trust, naming the node and its operator: the operator it does not read
// (a BatchNormalization, say), or the first node of a function of a
// layer's output that is none of nn's activations. It never panics on its
// input, and it refuses tensors whose sizes would not fit in nn's memory
// budget (see nn.SetMemoryBudget) before allocating them.
package onnx
