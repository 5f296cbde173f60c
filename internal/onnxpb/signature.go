package onnxpb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// ReadSignature reads the inputs and outputs that the ONNX model file at path declares,
// in the file's order. Graph inputs that are initializers are left out: older exporters
// list every weight as an input, and ONNX Runtime does not count those as inputs either.
//
// It reads only the fields it needs and seeks over everything else, weights included, so a
// model of any size costs a few kilobytes of memory and of reading. A model whose weights
// are in a separate file (ONNX external data) is read the same way; that file is not opened.
//
// A file that is not an ONNX model (truncated, garbage) gives an error, never a panic.
// See ValueInfo and Dim for how an unspecified type, shape or dimension is reported.
func ReadSignature(path string) (inputs, outputs []ValueInfo, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("onnxpb: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("onnxpb: %w", err)
	}
	inputs, outputs, err = readSignature(f, info.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("onnxpb: %s is not an ONNX model: %w", path, err)
	}
	return inputs, outputs, nil
}

// ReadSignatureData is ReadSignature for a model held in memory.
func ReadSignatureData(data []byte) (inputs, outputs []ValueInfo, err error) {
	inputs, outputs, err = readSignature(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("onnxpb: not an ONNX model: %w", err)
	}
	return inputs, outputs, nil
}

// typeDenotation is TypeProto.denotation, a tag that leaves a value a tensor. Every other
// TypeProto field besides tensor_type (sequence_type 4, map_type 5, opaque_type 7,
// sparse_tensor_type 8, optional_type 9) makes it another kind of value.
const typeDenotation = 6

// maxNameLen caps the names the reader copies out of a file. Real names are short; a
// garbage file could otherwise claim a name of gigabytes.
const maxNameLen = 1 << 20

func readSignature(src io.ReaderAt, size int64) (inputs, outputs []ValueInfo, err error) {
	if size == 0 {
		return nil, nil, errors.New("the file is empty")
	}
	r := &wireReader{src: src, size: size}
	var g graphSignature
	sawIRVersion, sawGraph := false, false
	err = r.fields(size, func(f field) error {
		switch {
		case f.is(modelIRVersion, protowire.VarintType):
			sawIRVersion = true
		case f.is(modelGraph, protowire.BytesType):
			// A message field that occurs twice is merged by protobuf; reading both into the
			// same graphSignature does that for the repeated fields read here.
			sawGraph = true
			return r.fields(f.end, func(f field) error { return g.field(r, f) })
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, nil, err
	case !sawIRVersion:
		// Every ONNX model states its format version, and ONNX Runtime refuses one that
		// does not; a random file that happens to parse as protobuf almost never has it.
		return nil, nil, errors.New("no ir_version")
	case !sawGraph:
		return nil, nil, errors.New("no graph")
	}
	for _, in := range g.inputs {
		if !g.initializers[in.Name] {
			inputs = append(inputs, in)
		}
	}
	return inputs, g.outputs, nil
}

// graphSignature collects what ReadSignature needs from a GraphProto. Initializers are
// remembered by name because they may come before or after the inputs they shadow.
type graphSignature struct {
	inputs, outputs []ValueInfo
	initializers    map[string]bool
}

func (g *graphSignature) field(r *wireReader, f field) error {
	switch {
	case f.is(graphInput, protowire.BytesType):
		v, err := r.valueInfo(f.end)
		g.inputs = append(g.inputs, v)
		return err
	case f.is(graphOutput, protowire.BytesType):
		v, err := r.valueInfo(f.end)
		g.outputs = append(g.outputs, v)
		return err
	case f.is(graphInitializer, protowire.BytesType):
		// Only the name: the tensor's data is skipped over, not read.
		var name string
		err := r.fields(f.end, func(f field) error {
			if f.is(tensorName, protowire.BytesType) {
				return r.string(f, &name)
			}
			return nil
		})
		if g.initializers == nil {
			g.initializers = map[string]bool{}
		}
		g.initializers[name] = true
		return err
	}
	return nil
}

// valueInfo reads a ValueInfoProto that ends at end.
func (r *wireReader) valueInfo(end int64) (ValueInfo, error) {
	var v ValueInfo
	// kind is the TypeProto field that says what kind of value this is; 0 while none did.
	// The kinds are a oneof, so the last one in the file counts.
	var kind protowire.Number
	err := r.fields(end, func(f field) error {
		switch {
		case f.is(valueInfoName, protowire.BytesType):
			return r.string(f, &v.Name)
		case f.is(valueInfoType, protowire.BytesType):
			return r.fields(f.end, func(f field) error { // TypeProto
				switch {
				case f.is(typeTensorType, protowire.BytesType):
					kind = typeTensorType
					return r.tensorType(f.end, &v)
				case f.typ == protowire.BytesType && f.num != typeDenotation:
					kind = f.num
				}
				return nil
			})
		}
		return nil
	})
	if err == nil && kind != 0 && kind != typeTensorType {
		err = fmt.Errorf("%q is not a tensor (TypeProto field %d)", v.Name, kind)
	}
	return v, err
}

// tensorType reads a TypeProto.Tensor into v.
func (r *wireReader) tensorType(end int64, v *ValueInfo) error {
	return r.fields(end, func(f field) error {
		switch {
		case f.is(tensorTypeElemType, protowire.VarintType):
			v.ElemType = DataType(f.varint)
		case f.is(tensorTypeShape, protowire.BytesType):
			// A shape with no dims is a scalar, which is not the same as no shape at all.
			if v.Dims == nil {
				v.Dims = []Dim{}
			}
			return r.fields(f.end, func(f field) error {
				if !f.is(shapeDim, protowire.BytesType) {
					return nil
				}
				d, err := r.dim(f.end)
				v.Dims = append(v.Dims, d)
				return err
			})
		}
		return nil
	})
}

// dim reads a TensorShapeProto.Dimension. Its value and param are a oneof, so the last one
// in the file counts. With neither, an empty param or a negative value, the size is
// unknown, which Dim says with Value -1 alone.
func (r *wireReader) dim(end int64) (Dim, error) {
	unknown := Dim{Value: -1}
	d := unknown
	err := r.fields(end, func(f field) error {
		switch {
		case f.is(dimValue, protowire.VarintType):
			d = Dim{Value: max(int64(f.varint), -1)}
		case f.is(dimParam, protowire.BytesType):
			var name string
			if err := r.string(f, &name); err != nil {
				return err
			}
			d = Sym(name)
			if name == "" {
				d = unknown
			}
		}
		return nil
	})
	return d, err
}

// bufSize is how much the reader reads at a time. The fields it wants are small and sit
// between tensors it skips, so a small window wastes least on reads it then skips over.
const bufSize = 4096

// wireReader decodes protobuf fields from src, reading a small window at a time. Skipping
// a field only moves pos, so a tensor's data is never read.
type wireReader struct {
	src   io.ReaderAt
	size  int64  // the length of src
	pos   int64  // the offset of the next byte to decode
	buf   []byte // the bytes of src from offset bufAt on
	bufAt int64
}

// field is one protobuf field, its tag decoded. A varint field's value is decoded too;
// the value of a length-delimited field lies from the reader's pos up to end.
type field struct {
	num    protowire.Number
	typ    protowire.Type
	varint uint64
	end    int64
}

func (f field) is(num protowire.Number, typ protowire.Type) bool {
	return f.num == num && f.typ == typ
}

// fields calls visit with each field of the message that ends at end, and leaves pos at
// end. visit may read a length-delimited field's contents (with string or fields) or leave
// them; either way the reader moves on to the next field. A field with a number the reader
// does not know, or with another wire type than expected, is skipped, as protobuf does.
func (r *wireReader) fields(end int64, visit func(field) error) error {
	for r.pos < end {
		at := r.pos
		tag, err := r.varint(end)
		if err != nil {
			return err
		}
		num, typ := protowire.DecodeTag(tag)
		if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return fmt.Errorf("byte %d: invalid field number %d", at, num)
		}
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			if f.varint, err = r.varint(end); err != nil {
				return err
			}
			f.end = r.pos
		case protowire.Fixed32Type:
			f.end = r.pos + 4
		case protowire.Fixed64Type:
			f.end = r.pos + 8
		case protowire.BytesType:
			n, err := r.varint(end)
			if err != nil {
				return err
			}
			if n > uint64(end-r.pos) {
				return fmt.Errorf("byte %d: field %d claims %d bytes, only %d are left", at, num, n, end-r.pos)
			}
			f.end = r.pos + int64(n)
		default:
			// Groups are a proto2 relic ONNX never uses; wire types 6 and 7 do not exist.
			return fmt.Errorf("byte %d: field %d has wire type %d, which ONNX does not use", at, num, typ)
		}
		if f.end > end {
			return fmt.Errorf("byte %d: field %d runs past the end of its message", at, num)
		}
		if err := visit(f); err != nil {
			return err
		}
		r.pos = f.end
	}
	return nil
}

// varint decodes a varint that must end by end.
func (r *wireReader) varint(end int64) (uint64, error) {
	b, err := r.window(end, binary.MaxVarintLen64)
	if err != nil {
		return 0, err
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, fmt.Errorf("byte %d: %w", r.pos, protowire.ParseError(n))
	}
	r.pos += int64(n)
	return v, nil
}

// string copies a length-delimited field's contents into s.
func (r *wireReader) string(f field, s *string) error {
	n := f.end - r.pos
	if n > maxNameLen {
		return fmt.Errorf("byte %d: a name of %d bytes", r.pos, n)
	}
	b, err := r.window(f.end, int(n))
	if err != nil {
		return err
	}
	*s = string(b[:n])
	return nil
}

// window returns the next bytes from pos: n of them, or all that are left before end if
// fewer. It reads from src only when its buffer does not hold them.
func (r *wireReader) window(end int64, n int) ([]byte, error) {
	n = int(min(int64(n), end-r.pos))
	if r.pos >= r.bufAt && r.pos+int64(n) <= r.bufAt+int64(len(r.buf)) {
		return r.buf[r.pos-r.bufAt:][:n], nil
	}
	size := int(min(int64(max(n, bufSize)), r.size-r.pos))
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	r.buf = r.buf[:size]
	got, err := r.src.ReadAt(r.buf, r.pos)
	if got < size {
		// size stops at the end of src, so a short read means src shrank or failed.
		r.buf = r.buf[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("byte %d: %w", r.pos, err)
	}
	r.bufAt = r.pos
	return r.buf[:n], nil
}
