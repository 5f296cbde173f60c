package onnxpb

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx.proto, for the fields this package writes.
// Grouped by message; the comment names the proto field.
const (
	// ModelProto
	modelIRVersion     = 1  // ir_version
	modelProducerName  = 2  // producer_name
	modelGraph         = 7  // graph
	modelOpsetImport   = 8  // opset_import
	modelMetadataProps = 14 // metadata_props

	// OperatorSetIdProto
	opsetDomain  = 1 // domain
	opsetVersion = 2 // version

	// StringStringEntryProto
	entryKey   = 1 // key
	entryValue = 2 // value

	// GraphProto
	graphNode        = 1  // node
	graphName        = 2  // name
	graphInitializer = 5  // initializer
	graphInput       = 11 // input
	graphOutput      = 12 // output

	// NodeProto
	nodeInput     = 1 // input
	nodeOutput    = 2 // output
	nodeName      = 3 // name
	nodeOpType    = 4 // op_type
	nodeAttribute = 5 // attribute
	nodeDomain    = 7 // domain

	// AttributeProto
	attrName   = 1  // name
	attrF      = 2  // f
	attrI      = 3  // i
	attrS      = 4  // s
	attrT      = 5  // t
	attrFloats = 7  // floats
	attrInts   = 8  // ints
	attrType   = 20 // type

	// TensorProto
	tensorDims     = 1 // dims
	tensorDataType = 2 // data_type
	tensorName     = 8 // name
	tensorRawData  = 9 // raw_data
	// external_data and data_location: where a tensor's bytes live when they are outside
	// the model file.
	tensorExternalData   = 13
	tensorDataLocation   = 14
	dataLocationExternal = 1 // TensorProto.DataLocation.EXTERNAL

	// ValueInfoProto
	valueInfoName = 1 // name
	valueInfoType = 2 // type (a TypeProto)

	typeTensorType     = 1 // TypeProto.tensor_type
	tensorTypeElemType = 1 // TypeProto.Tensor.elem_type
	tensorTypeShape    = 2 // TypeProto.Tensor.shape
	shapeDim           = 1 // TensorShapeProto.dim
	dimValue           = 1 // TensorShapeProto.Dimension.dim_value
	dimParam           = 2 // TensorShapeProto.Dimension.dim_param
)

// Marshal encodes m as an ONNX ModelProto, the content of a .onnx file.
//
// Fields are written in field-number order, as protobuf libraries do. Map
// entries (metadata, extra opsets) are sorted by key so that the same model
// always encodes to the same bytes.
func (m *Model) Marshal() []byte {
	e := &encoder{b: make([]byte, 0, m.sizeHint())}

	e.intField(modelIRVersion, cmp.Or(m.IRVersion, DefaultIRVersion))
	if m.Producer != "" {
		e.stringField(modelProducerName, m.Producer)
	}
	e.messageField(modelGraph, func() { e.graph(&m.Graph) })
	e.messageField(modelOpsetImport, func() {
		e.stringField(opsetDomain, "") // "" is the standard ONNX operator set
		e.intField(opsetVersion, cmp.Or(m.Opset, DefaultOpset))
	})
	for _, domain := range slices.Sorted(maps.Keys(m.ExtraOpsets)) {
		e.messageField(modelOpsetImport, func() {
			e.stringField(opsetDomain, domain)
			e.intField(opsetVersion, m.ExtraOpsets[domain])
		})
	}
	for _, key := range slices.Sorted(maps.Keys(m.Metadata)) {
		e.messageField(modelMetadataProps, func() {
			e.stringField(entryKey, key)
			e.stringField(entryValue, m.Metadata[key])
		})
	}
	return e.b
}

// WriteFile writes the encoded model to path (see WriteModelFile).
func (m *Model) WriteFile(path string) error {
	return WriteModelFile(path, m.Marshal())
}

// WriteModelFile writes the bytes of a model file to path.
//
// The data goes to a temporary file in the same directory which is then
// renamed over path. A rename within one directory is atomic, so readers
// (and a crash halfway through) see either the old file or the complete
// new one, never a truncated model.
func WriteModelFile(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("onnxpb: write model: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()           // may already be closed; the error is moot then
			os.Remove(tmp.Name()) // do not leave temporary files behind
			err = fmt.Errorf("onnxpb: write model %s: %w", path, err)
		}
	}()

	if _, err = tmp.Write(data); err != nil {
		return err
	}
	// Flush to disk before the rename makes the file visible under its
	// real name; otherwise a power loss could leave an empty model there.
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file private (0600); a model is ordinary data.
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// WriteWithExternalData writes the model to path and the data of its initializers to the
// file dataName beside it, as exporters store models over protobuf's 2 GiB limit (a
// diffusers UNet and its weights.pb). Tensors under 1 KiB stay inline, as with the onnx
// package's converter: shape inference must read constants such as axes from the model
// itself. ONNX Runtime finds the data file relative to the model's own path. m is not
// changed.
const externalThreshold = 1024

func (m *Model) WriteWithExternalData(path, dataName string) error {
	external := *m
	external.Graph.Initializers = slices.Clone(m.Graph.Initializers)
	var data []byte
	for i := range external.Graph.Initializers {
		t := &external.Graph.Initializers[i]
		if len(t.Raw) < externalThreshold {
			continue
		}
		t.External = &ExternalData{Location: dataName, Offset: int64(len(data)), Length: int64(len(t.Raw))}
		data = append(data, t.Raw...)
		t.Raw = nil
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), dataName), data, 0o644); err != nil {
		return fmt.Errorf("onnxpb: write model data: %w", err)
	}
	return external.WriteFile(path)
}

// sizeHint estimates the encoded size so Marshal can allocate its buffer
// once: nearly all of a real model's bytes are tensor data, and letting
// append grow a buffer of hundreds of megabytes would copy it repeatedly.
func (m *Model) sizeHint() int {
	n := 4096
	for _, t := range m.Graph.Initializers {
		n += len(t.Raw) + len(t.Name) + 16 + 11*len(t.Dims)
	}
	for _, node := range m.Graph.Nodes {
		n += 256
		for _, a := range node.Attrs {
			n += len(a.t.Raw)
		}
	}
	return n
}

func (e *encoder) graph(g *Graph) {
	for i := range g.Nodes {
		e.messageField(graphNode, func() { e.node(&g.Nodes[i]) })
	}
	if g.Name != "" {
		e.stringField(graphName, g.Name)
	}
	for i := range g.Initializers {
		e.messageField(graphInitializer, func() { e.tensor(&g.Initializers[i]) })
	}
	for i := range g.Inputs {
		e.messageField(graphInput, func() { e.valueInfo(&g.Inputs[i]) })
	}
	for i := range g.Outputs {
		e.messageField(graphOutput, func() { e.valueInfo(&g.Outputs[i]) })
	}
}

func (e *encoder) node(n *Node) {
	// Empty input names are kept: they hold the place of omitted
	// optional inputs.
	for _, name := range n.Inputs {
		e.stringField(nodeInput, name)
	}
	for _, name := range n.Outputs {
		e.stringField(nodeOutput, name)
	}
	if n.Name != "" {
		e.stringField(nodeName, n.Name)
	}
	e.stringField(nodeOpType, n.OpType)
	for i := range n.Attrs {
		e.messageField(nodeAttribute, func() { e.attr(&n.Attrs[i]) })
	}
	if n.Domain != "" {
		e.stringField(nodeDomain, n.Domain)
	}
}

func (e *encoder) attr(a *Attr) {
	e.stringField(attrName, a.name)
	switch a.kind {
	case kindFloat:
		e.floatField(attrF, a.f)
	case kindInt:
		e.intField(attrI, a.i)
	case kindString:
		e.stringField(attrS, a.s)
	case kindTensor:
		e.messageField(attrT, func() { e.tensor(&a.t) })
	case kindFloats:
		// onnx.proto does not mark floats/ints as packed, so each element
		// is its own field, exactly as the reference implementation writes.
		for _, f := range a.floats {
			e.floatField(attrFloats, f)
		}
	case kindInts:
		for _, v := range a.ints {
			e.intField(attrInts, v)
		}
	}
	// The type discriminator is mandatory: without it a reader cannot
	// tell an absent value from a zero one.
	e.intField(attrType, int64(a.kind))
}

func (e *encoder) tensor(t *Tensor) {
	for _, d := range t.Dims {
		e.intField(tensorDims, d)
	}
	e.intField(tensorDataType, int64(t.DataType))
	if t.Name != "" {
		e.stringField(tensorName, t.Name)
	}
	if t.External == nil {
		e.bytesField(tensorRawData, t.Raw)
		return
	}
	for _, kv := range [][2]string{
		{"location", t.External.Location},
		{"offset", strconv.FormatInt(t.External.Offset, 10)},
		{"length", strconv.FormatInt(t.External.Length, 10)},
	} {
		e.messageField(tensorExternalData, func() {
			e.stringField(entryKey, kv[0])
			e.stringField(entryValue, kv[1])
		})
	}
	e.intField(tensorDataLocation, dataLocationExternal)
}

// valueInfo writes ValueInfoProto{name, type: TypeProto{tensor_type:
// {elem_type, shape: {dim...}}}}; the nesting below mirrors that.
func (e *encoder) valueInfo(v *ValueInfo) {
	e.stringField(valueInfoName, v.Name)
	e.messageField(valueInfoType, func() {
		e.messageField(typeTensorType, func() {
			e.intField(tensorTypeElemType, int64(v.ElemType))
			if v.Dims == nil {
				return // shape unspecified
			}
			e.messageField(tensorTypeShape, func() {
				for _, d := range v.Dims {
					e.messageField(shapeDim, func() {
						// An unknown dimension (negative Value) stays empty.
						if d.Param != "" {
							e.stringField(dimParam, d.Param)
						} else if d.Value >= 0 {
							e.intField(dimValue, d.Value)
						}
					})
				}
			})
		})
	})
}

// encoder appends protobuf fields to a growing byte slice.
type encoder struct{ b []byte }

// intField writes a varint field (int64, int32 and enum fields alike;
// negative values take the 10-byte two's-complement form protobuf uses).
func (e *encoder) intField(num protowire.Number, v int64) {
	e.b = protowire.AppendTag(e.b, num, protowire.VarintType)
	e.b = protowire.AppendVarint(e.b, uint64(v))
}

func (e *encoder) floatField(num protowire.Number, f float32) {
	e.b = protowire.AppendTag(e.b, num, protowire.Fixed32Type)
	e.b = protowire.AppendFixed32(e.b, math.Float32bits(f))
}

func (e *encoder) stringField(num protowire.Number, s string) {
	e.b = protowire.AppendTag(e.b, num, protowire.BytesType)
	e.b = protowire.AppendString(e.b, s)
}

func (e *encoder) bytesField(num protowire.Number, v []byte) {
	e.b = protowire.AppendTag(e.b, num, protowire.BytesType)
	e.b = protowire.AppendBytes(e.b, v)
}

// messageField writes a sub-message whose fields are appended by body.
//
// A sub-message is prefixed by its length, which is only known once the
// body is encoded. Encoding the body into a temporary buffer and copying it
// in would, for a graph full of weights, allocate and copy every weight
// again at each nesting level. Instead we reserve room for the longest
// possible length prefix, encode the body in place right after it, then
// write the real prefix and slide the body left over the unused bytes.
func (e *encoder) messageField(num protowire.Number, body func()) {
	e.b = protowire.AppendTag(e.b, num, protowire.BytesType)
	lenAt := len(e.b)
	e.b = append(e.b, make([]byte, binary.MaxVarintLen64)...)
	bodyAt := len(e.b)

	body()

	bodyLen := len(e.b) - bodyAt
	// binary.PutUvarint writes the same base-128 varint as protobuf.
	prefixLen := binary.PutUvarint(e.b[lenAt:], uint64(bodyLen))
	copy(e.b[lenAt+prefixLen:], e.b[bodyAt:])
	e.b = e.b[:lenAt+prefixLen+bodyLen]
}
