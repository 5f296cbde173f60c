package onnxpb

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// schemaField describes one field of an ONNX message: its name in
// onnx.proto and its type, which is "int" (any varint: int32, int64,
// enum), "float", "string", "bytes", or the name of a message type.
type schemaField struct{ name, typ string }

// onnxSchema is written out by hand from onnx.proto, independently of the
// constants in encode.go, so that the tests below check the encoder
// against the ONNX specification rather than against itself.
var onnxSchema = map[string]map[protowire.Number]schemaField{
	"ModelProto": {
		1:  {"ir_version", "int"},
		2:  {"producer_name", "string"},
		3:  {"producer_version", "string"},
		4:  {"domain", "string"},
		5:  {"model_version", "int"},
		6:  {"doc_string", "string"},
		7:  {"graph", "GraphProto"},
		8:  {"opset_import", "OperatorSetIdProto"},
		14: {"metadata_props", "StringStringEntryProto"},
	},
	"OperatorSetIdProto": {
		1: {"domain", "string"},
		2: {"version", "int"},
	},
	"StringStringEntryProto": {
		1: {"key", "string"},
		2: {"value", "string"},
	},
	"GraphProto": {
		1:  {"node", "NodeProto"},
		2:  {"name", "string"},
		5:  {"initializer", "TensorProto"},
		10: {"doc_string", "string"},
		11: {"input", "ValueInfoProto"},
		12: {"output", "ValueInfoProto"},
		13: {"value_info", "ValueInfoProto"},
	},
	"NodeProto": {
		1: {"input", "string"},
		2: {"output", "string"},
		3: {"name", "string"},
		4: {"op_type", "string"},
		5: {"attribute", "AttributeProto"},
		6: {"doc_string", "string"},
		7: {"domain", "string"},
	},
	"AttributeProto": {
		1:  {"name", "string"},
		2:  {"f", "float"},
		3:  {"i", "int"},
		4:  {"s", "string"},
		5:  {"t", "TensorProto"},
		6:  {"g", "GraphProto"},
		7:  {"floats", "float"},
		8:  {"ints", "int"},
		9:  {"strings", "string"},
		20: {"type", "int"},
	},
	"TensorProto": {
		1:  {"dims", "int"},
		2:  {"data_type", "int"},
		8:  {"name", "string"},
		9:  {"raw_data", "bytes"},
		12: {"doc_string", "string"},
	},
	"ValueInfoProto": {
		1: {"name", "string"},
		2: {"type", "TypeProto"},
	},
	"TypeProto": {
		1: {"tensor_type", "TypeProto.Tensor"},
	},
	"TypeProto.Tensor": {
		1: {"elem_type", "int"},
		2: {"shape", "TensorShapeProto"},
	},
	"TensorShapeProto": {
		1: {"dim", "TensorShapeProto.Dimension"},
	},
	"TensorShapeProto.Dimension": {
		1: {"dim_value", "int"},
		2: {"dim_param", "string"},
	},
}

// dump decodes the protobuf message b of type msgType into indented text,
// one line per field, using only protowire and onnxSchema. It fails the
// test on any field number the schema does not list and on any wire type
// that does not match the field's declared type (which also catches packed
// encoding of fields onnx.proto declares unpacked).
func dump(t *testing.T, out *strings.Builder, msgType string, b []byte, indent string) {
	t.Helper()
	for len(b) > 0 {
		num, wireType, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("%s: bad tag: %v", msgType, protowire.ParseError(n))
		}
		b = b[n:]
		f, ok := onnxSchema[msgType][num]
		if !ok {
			t.Fatalf("%s: field number %d is not in onnx.proto", msgType, num)
		}
		want := protowire.BytesType
		switch f.typ {
		case "int":
			want = protowire.VarintType
		case "float":
			want = protowire.Fixed32Type
		}
		if wireType != want {
			t.Fatalf("%s.%s: wire type %d, want %d", msgType, f.name, wireType, want)
		}

		switch wireType {
		case protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			fmt.Fprintf(out, "%s%s: %d\n", indent, f.name, int64(v))
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			fmt.Fprintf(out, "%s%s: %g\n", indent, f.name, math.Float32frombits(v))
		case protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			switch f.typ {
			case "string":
				fmt.Fprintf(out, "%s%s: %q\n", indent, f.name, v)
			case "bytes":
				fmt.Fprintf(out, "%s%s: %x\n", indent, f.name, v)
			default:
				fmt.Fprintf(out, "%s%s {\n", indent, f.name)
				dump(t, out, f.typ, v, indent+"  ")
				fmt.Fprintf(out, "%s}\n", indent)
			}
		}
		if n < 0 {
			t.Fatalf("%s.%s: bad value: %v", msgType, f.name, protowire.ParseError(n))
		}
		b = b[n:]
	}
}

// tinyModel uses every kind of field the encoder can write.
func tinyModel() *Model {
	g := Graph{Name: "tiny"}
	g.Inputs = []ValueInfo{NewValueInfo("x", Float, Fixed(1), Sym("n"))}
	g.Outputs = []ValueInfo{NewValueInfo("y", Double)} // shape left unspecified
	w := g.AddInitializer(Float32Tensor("w", []int64{2}, []float32{1, -2}))
	g.Add("Custom", []string{"x", "", w}, []string{"y"},
		AttrInt("i", -1),
		AttrFloat("f", 0.5),
		AttrString("s", "CRD"),
		AttrInts("is", 1, 300),
		AttrFloats("fs", 0.25, -4),
		AttrTensor("t", Int64Tensor("", nil, []int64{258})),
	)
	g.Nodes[0].Domain = "test.domain"
	return &Model{
		Graph:       g,
		Producer:    "onnxpb-test",
		ExtraOpsets: map[string]int64{"test.domain": 3},
		Metadata:    map[string]string{"b": "2", "a": "1"},
	}
}

// The golden text spells out, with onnx.proto's field names, what the
// tiny model must decode to. Raw data is little-endian: 1.0f is 0000803f,
// -2.0f is 000000c0, int64 258 is 0201000000000000. Attribute types are
// AttributeType values (INT=2, FLOAT=1, STRING=3, INTS=7, FLOATS=6,
// TENSOR=4), data types are DataType values (FLOAT=1, INT64=7, DOUBLE=11).
const tinyGolden = `ir_version: 8
producer_name: "onnxpb-test"
graph {
  node {
    input: "x"
    input: ""
    input: "w"
    output: "y"
    name: "Custom_0"
    op_type: "Custom"
    attribute {
      name: "i"
      i: -1
      type: 2
    }
    attribute {
      name: "f"
      f: 0.5
      type: 1
    }
    attribute {
      name: "s"
      s: "CRD"
      type: 3
    }
    attribute {
      name: "is"
      ints: 1
      ints: 300
      type: 7
    }
    attribute {
      name: "fs"
      floats: 0.25
      floats: -4
      type: 6
    }
    attribute {
      name: "t"
      t {
        data_type: 7
        raw_data: 0201000000000000
      }
      type: 4
    }
    domain: "test.domain"
  }
  name: "tiny"
  initializer {
    dims: 2
    data_type: 1
    name: "w"
    raw_data: 0000803f000000c0
  }
  input {
    name: "x"
    type {
      tensor_type {
        elem_type: 1
        shape {
          dim {
            dim_value: 1
          }
          dim {
            dim_param: "n"
          }
        }
      }
    }
  }
  output {
    name: "y"
    type {
      tensor_type {
        elem_type: 11
      }
    }
  }
}
opset_import {
  domain: ""
  version: 17
}
opset_import {
  domain: "test.domain"
  version: 3
}
metadata_props {
  key: "a"
  value: "1"
}
metadata_props {
  key: "b"
  value: "2"
}
`

func TestMarshalDecodesWithONNXFieldNumbers(t *testing.T) {
	var got strings.Builder
	dump(t, &got, "ModelProto", tinyModel().Marshal(), "")
	if got.String() != tinyGolden {
		t.Errorf("decoded model differs from golden text.\ngot:\n%s\nwant:\n%s", got.String(), tinyGolden)
	}
}

func TestMarshalVersions(t *testing.T) {
	tests := []struct {
		name             string
		model            Model
		wantIR, wantOpst string
	}{
		{"defaults", Model{}, "ir_version: 8\n", "  version: 17\n"},
		{"explicit", Model{IRVersion: 9, Opset: 13}, "ir_version: 9\n", "  version: 13\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got strings.Builder
			dump(t, &got, "ModelProto", tt.model.Marshal(), "")
			if !strings.HasPrefix(got.String(), tt.wantIR) || !strings.Contains(got.String(), tt.wantOpst) {
				t.Errorf("got:\n%s\nwant %q and %q", got.String(), tt.wantIR, tt.wantOpst)
			}
		})
	}
}

// A length prefix grows by a byte at 2^7, 2^14 and 2^21 bytes of body; this
// checks the in-place prefix of encoder.messageField at sizes around those
// boundaries (n float32s are 4n bytes of raw_data).
func TestMarshalLargeTensor(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 33, 4095, 4096, 1 << 19} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := make([]float32, n)
			for i := range data {
				data[i] = float32(i)
			}
			m := Model{Graph: Graph{Initializers: []Tensor{Float32Tensor("w", []int64{int64(n)}, data)}}}
			raw := findRawData(t, m.Marshal())
			if !bytes.Equal(raw, m.Graph.Initializers[0].Raw) {
				t.Fatalf("raw_data of %d floats did not survive encoding", n)
			}
		})
	}
}

// findRawData digs ModelProto.graph.initializer[0].raw_data out of b.
func findRawData(t *testing.T, b []byte) []byte {
	t.Helper()
	for _, num := range []protowire.Number{7, 5, 9} {
		b = firstBytesField(t, b, num)
	}
	return b
}

func firstBytesField(t *testing.T, b []byte, want protowire.Number) []byte {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		b = b[n:]
		if num == want && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatal(protowire.ParseError(n))
			}
			return v
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		b = b[n:]
	}
	t.Fatalf("field %d not found", want)
	return nil
}

func TestTensorRawData(t *testing.T) {
	tests := []struct {
		name   string
		tensor Tensor
		want   Tensor
	}{
		{"float32", Float32Tensor("a", []int64{2}, []float32{1, -2}),
			Tensor{"a", Float, []int64{2}, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, nil}},
		{"float64 scalar", Float64Tensor("b", nil, []float64{1}),
			Tensor{"b", Double, nil, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, nil}},
		{"int64", Int64Tensor("c", []int64{1, 1}, []int64{-2}),
			Tensor{"c", Int64, []int64{1, 1}, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, nil}},
		{"int32", Int32Tensor("d", []int64{2}, []int32{1, 0x01020304}),
			Tensor{"d", Int32, []int64{2}, []byte{1, 0, 0, 0, 4, 3, 2, 1}, nil}},
		{"empty", Float32Tensor("e", []int64{0, 3}, nil),
			Tensor{"e", Float, []int64{0, 3}, []byte{}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.tensor
			if got.Name != tt.want.Name || got.DataType != tt.want.DataType ||
				fmt.Sprint(got.Dims) != fmt.Sprint(tt.want.Dims) || !bytes.Equal(got.Raw, tt.want.Raw) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTensorPanicsOnWrongElementCount(t *testing.T) {
	tests := []struct {
		name string
		make func()
	}{
		{"too few", func() { Float32Tensor("a", []int64{2, 2}, []float32{1, 2, 3}) }},
		{"too many", func() { Int64Tensor("b", []int64{1}, []int64{1, 2}) }},
		{"scalar needs one", func() { Float64Tensor("c", nil, nil) }},
		{"negative dim", func() { Int32Tensor("d", []int64{-1}, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.make()
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	m := tinyModel()

	// Write twice: the second write must replace the first file whole.
	if err := os.WriteFile(path, []byte("old contents, longer than nothing"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := m.WriteFile(path); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, m.Marshal()) {
		t.Error("file contents differ from Marshal output")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only model.onnx (temporary file left behind?)", len(entries))
	}
	if info, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if info.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v, want 0644", info.Mode().Perm())
	}

	if err := m.WriteFile(filepath.Join(dir, "missing", "model.onnx")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// BenchmarkMarshalWeights measures a model the size of a typical
// upscaler: 64 MiB of float32 weights in 64 initializers. Marshal should
// make about one allocation of the output size and copy each weight a few
// times at memory speed.
func BenchmarkMarshalWeights(b *testing.B) {
	var g Graph
	for i := range 64 {
		g.AddInitializer(Float32Tensor(fmt.Sprint("w", i), []int64{64, 64, 8, 8}, make([]float32, 1<<18)))
	}
	m := &Model{Graph: g}
	b.SetBytes(64 << 20)
	b.ReportAllocs()
	for b.Loop() {
		m.Marshal()
	}
}
