package serve

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// modelConfig is what the Server reads of a model's config.pbtxt.
type modelConfig struct {
	policy versionPolicy
	file   string // the model file of a version directory
	// batchRows and batchDelay configure the model's batcher; zero means
	// the Server's Options.
	batchRows  int
	batchDelay time.Duration
}

// defaultConfig is the configuration of a model without config.pbtxt:
// Triton's default policy, the latest version only.
func defaultConfig() modelConfig {
	return modelConfig{policy: versionPolicy{latest: 1}, file: defaultModelFile}
}

// versionPolicy says which versions of a model are served, as Triton's
// ModelVersionPolicy: the latest n (latest > 0), all of them (all), or
// those listed (specific).
type versionPolicy struct {
	latest   int
	all      bool
	specific []int64
}

// keep returns the versions of nums, sorted, that the policy serves.
func (p versionPolicy) keep(nums []int64) []int64 {
	switch {
	case p.all:
		return nums
	case p.specific != nil:
		var k []int64
		for _, n := range nums {
			if slices.Contains(p.specific, n) {
				k = append(k, n)
			}
		}
		return k
	}
	return nums[max(len(nums)-p.latest, 0):]
}

// configDesc describes the part of Triton's ModelConfig message that the
// Server reads, by the same field names, so that a config.pbtxt written
// for Triton reads here: the fields it does not know (inputs, outputs,
// instance groups, backends) are skipped.
var configDesc = func() protoreflect.MessageDescriptor {
	str := func(s string) *string { return &s }
	i32 := func(i int32) *int32 { return &i }
	field := func(name string, n int32, typ descriptorpb.FieldDescriptorProto_Type, msg string, repeated bool) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: str(name), Number: i32(n), Type: typ.Enum(), JsonName: str(name)}
		f.Label = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
		if repeated {
			f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		}
		if msg != "" {
			f.TypeName = str(".nnserve." + msg)
		}
		return f
	}
	const (
		tMsg    = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		tString = descriptorpb.FieldDescriptorProto_TYPE_STRING
		tInt32  = descriptorpb.FieldDescriptorProto_TYPE_INT32
		tUint32 = descriptorpb.FieldDescriptorProto_TYPE_UINT32
		tInt64  = descriptorpb.FieldDescriptorProto_TYPE_INT64
		tUint64 = descriptorpb.FieldDescriptorProto_TYPE_UINT64
	)
	oneof := func(f *descriptorpb.FieldDescriptorProto) *descriptorpb.FieldDescriptorProto {
		f.OneofIndex = i32(0)
		return f
	}
	fd := &descriptorpb.FileDescriptorProto{
		Name:    str("nnserve/model_config.proto"),
		Package: str("nnserve"),
		Syntax:  str("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: str("ModelConfig"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, tString, "", false),
				field("platform", 2, tString, "", false),
				field("version_policy", 3, tMsg, "ModelVersionPolicy", false),
				field("max_batch_size", 4, tInt32, "", false),
				field("default_model_filename", 8, tString, "", false),
				field("dynamic_batching", 11, tMsg, "DynamicBatching", false),
				field("backend", 17, tString, "", false),
			}},
			{Name: str("ModelVersionPolicy"),
				Field: []*descriptorpb.FieldDescriptorProto{
					oneof(field("latest", 1, tMsg, "ModelVersionPolicy.Latest", false)),
					oneof(field("all", 2, tMsg, "ModelVersionPolicy.All", false)),
					oneof(field("specific", 3, tMsg, "ModelVersionPolicy.Specific", false)),
				},
				OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: str("policy_choice")}},
				NestedType: []*descriptorpb.DescriptorProto{
					{Name: str("Latest"), Field: []*descriptorpb.FieldDescriptorProto{field("num_versions", 1, tUint32, "", false)}},
					{Name: str("All")},
					{Name: str("Specific"), Field: []*descriptorpb.FieldDescriptorProto{field("versions", 1, tInt64, "", true)}},
				},
			},
			{Name: str("DynamicBatching"), Field: []*descriptorpb.FieldDescriptorProto{
				field("preferred_batch_size", 1, tInt32, "", true),
				field("max_queue_delay_microseconds", 2, tUint64, "", false),
			}},
		},
	}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		panic(err) // the descriptor above is valid
	}
	return f.Messages().ByName("ModelConfig")
}()

// maxConfigBatch is the most rows of a batch a configuration may ask: a
// batch's buffers are not counted in Options.MaxInflightBytes.
const maxConfigBatch = 1 << 16

// maxConfigDelay is the longest batching delay a configuration may ask.
const maxConfigDelay = time.Second

// parseConfig reads a config.pbtxt, Triton's model configuration in
// protocol buffer text format: version_policy, max_batch_size (the most
// rows of a batch), dynamic_batching's max_queue_delay_microseconds and
// default_model_filename; other fields are skipped. A platform or
// backend, if given, must be "neuralgo_nn".
func parseConfig(b []byte) (modelConfig, error) {
	msg := dynamicpb.NewMessage(configDesc)
	if err := (prototext.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, msg); err != nil {
		return modelConfig{}, err
	}
	c := defaultConfig()
	get := func(m protoreflect.Message, name protoreflect.Name) (protoreflect.Value, bool) {
		f := m.Descriptor().Fields().ByName(name)
		return m.Get(f), m.Has(f)
	}
	for _, name := range []protoreflect.Name{"platform", "backend"} {
		if v, ok := get(msg, name); ok && v.String() != platform {
			return c, fmt.Errorf("%s %q: this server serves nn models (%s %q), or leave it out", name, v.String(), name, platform)
		}
	}
	if v, ok := get(msg, "default_model_filename"); ok {
		f := v.String()
		if f == "" || f == "." || f == ".." || slices.ContainsFunc([]byte(f), func(c byte) bool { return c == '/' || c == 0 }) {
			return c, fmt.Errorf("default_model_filename %q: want the name of a file in the version directory", f)
		}
		c.file = f
	}
	if v, ok := get(msg, "max_batch_size"); ok {
		if v.Int() < 0 || v.Int() > maxConfigBatch {
			return c, fmt.Errorf("max_batch_size %d: want a number of rows from 0 to %d", v.Int(), maxConfigBatch)
		}
		c.batchRows = int(v.Int())
	}
	if v, ok := get(msg, "dynamic_batching"); ok {
		// A proto3 number has no presence: a delay of 0, or none
		// (dynamic_batching {}), batches only what is waiting, as in
		// Triton.
		d, _ := get(v.Message(), "max_queue_delay_microseconds")
		us := d.Uint()
		if us > uint64(maxConfigDelay/time.Microsecond) {
			return c, fmt.Errorf("dynamic_batching: max_queue_delay_microseconds %d: more than %v", us, maxConfigDelay)
		}
		c.batchDelay = time.Duration(us) * time.Microsecond
		if us == 0 {
			c.batchDelay = -1
		}
	}
	if v, ok := get(msg, "version_policy"); ok {
		p := v.Message()
		switch {
		case p.Has(p.Descriptor().Fields().ByName("all")):
			c.policy = versionPolicy{all: true}
		case p.Has(p.Descriptor().Fields().ByName("specific")):
			vs, _ := get(p, "specific")
			l, _ := get(vs.Message(), "versions")
			list := l.List()
			if list.Len() == 0 {
				return c, errors.New("version_policy: specific: no versions; list them, as in specific { versions: [1, 3] }")
			}
			c.policy = versionPolicy{specific: make([]int64, list.Len())}
			for i := range list.Len() {
				if list.Get(i).Int() <= 0 {
					return c, fmt.Errorf("version_policy: specific: version %d: versions are whole numbers from 1", list.Get(i).Int())
				}
				c.policy.specific[i] = list.Get(i).Int()
			}
		case p.Has(p.Descriptor().Fields().ByName("latest")):
			l, _ := get(p, "latest")
			n, _ := get(l.Message(), "num_versions")
			if n.Uint() == 0 {
				return c, errors.New("version_policy: latest: num_versions 0: want 1 or more")
			}
			c.policy = versionPolicy{latest: int(min(n.Uint(), 1<<20))}
		}
	}
	return c, nil
}
