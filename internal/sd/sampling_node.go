package sd

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the ONNX messages withoutSampling walks (onnx.proto).
const (
	modelGraph     = 7  // ModelProto.graph
	graphNode      = 1  // GraphProto.node
	nodeInput      = 1  // NodeProto.input
	nodeOutput     = 2  // NodeProto.output
	nodeName       = 3  // NodeProto.name
	nodeOpType     = 4  // NodeProto.op_type
	nodeAttribute  = 5  // NodeProto.attribute
	attrName       = 1  // AttributeProto.name
	attrFloat      = 2  // AttributeProto.f
	attrType       = 20 // AttributeProto.type
	attrTypeFloat  = 1  // AttributeProto.AttributeType.FLOAT
	randomNormal   = "RandomNormal"
	randomNormalLk = "RandomNormalLike"
)

// withoutSampling rewrites an ONNX model so that its random normal nodes (the VAE encoder's
// posterior sampling, mean + std·N(0,1)) give zeros, which leaves the mean. It reports
// whether any node changed; a model without such nodes comes back as it was. Every other
// byte is copied unchanged, so the model is otherwise the same file.
//
// The nodes are replaced, not given a scale of 0: ONNX Runtime aborts the process on a
// normal distribution with no spread.
func withoutSampling(model []byte) ([]byte, bool, error) {
	changed := false
	out, err := rewriteField(model, modelGraph, func(graph []byte) ([]byte, error) {
		return rewriteField(graph, graphNode, func(node []byte) ([]byte, error) {
			n, ok, err := zeroNoise(node)
			changed = changed || ok
			return n, err
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("cannot read the VAE encoder as an ONNX model: %v", err)
	}
	if !changed {
		return model, false, nil
	}
	return out, true, nil
}

// eachField calls visit with every field of a message: its number, wire type, the whole
// field as encoded, and, for length-delimited fields, their contents.
func eachField(msg []byte, visit func(num protowire.Number, field, body []byte) error) error {
	for len(msg) > 0 {
		num, typ, tagLen := protowire.ConsumeTag(msg)
		if tagLen < 0 {
			return protowire.ParseError(tagLen)
		}
		valueLen := protowire.ConsumeFieldValue(num, typ, msg[tagLen:])
		if valueLen < 0 {
			return protowire.ParseError(valueLen)
		}
		field := msg[:tagLen+valueLen]
		var body []byte
		if typ == protowire.BytesType {
			body, _ = protowire.ConsumeBytes(field[tagLen:])
		}
		if err := visit(num, field, body); err != nil {
			return err
		}
		msg = msg[tagLen+valueLen:]
	}
	return nil
}

// rewriteField copies a message, passing the contents of every length-delimited field
// numbered num through edit.
func rewriteField(msg []byte, num protowire.Number, edit func([]byte) ([]byte, error)) ([]byte, error) {
	out := make([]byte, 0, len(msg)+64)
	err := eachField(msg, func(n protowire.Number, field, body []byte) error {
		if n != num || body == nil {
			out = append(out, field...)
			return nil
		}
		edited, err := edit(body)
		out = protowire.AppendTag(out, n, protowire.BytesType)
		out = protowire.AppendBytes(out, edited)
		return err
	})
	return out, err
}

// zeroNoise replaces a random normal node by one that computes zeros under the same output
// name: RandomNormalLike(x) becomes Sub(x, x), which keeps x's shape, and RandomNormal a
// scalar Constant 0, which broadcasts wherever the noise was used. Other nodes are returned
// unchanged.
func zeroNoise(node []byte) ([]byte, bool, error) {
	op, err := stringField(node, nodeOpType)
	if err != nil || (op != randomNormal && op != randomNormalLk) {
		return node, false, err
	}
	var input string
	var out []byte
	err = eachField(node, func(n protowire.Number, field, body []byte) error {
		switch n {
		case nodeInput:
			input = string(body)
		case nodeOutput, nodeName:
			out = append(out, field...)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if op == randomNormalLk {
		out = appendString(out, nodeInput, input)
		out = appendString(out, nodeInput, input)
		return appendString(out, nodeOpType, "Sub"), true, nil
	}
	var attr []byte
	attr = appendString(attr, attrName, "value_float")
	attr = protowire.AppendTag(attr, attrFloat, protowire.Fixed32Type)
	attr = protowire.AppendFixed32(attr, 0) // the bits of float32 0
	attr = protowire.AppendTag(attr, attrType, protowire.VarintType)
	attr = protowire.AppendVarint(attr, attrTypeFloat)
	out = appendString(out, nodeOpType, "Constant")
	out = protowire.AppendTag(out, nodeAttribute, protowire.BytesType)
	return protowire.AppendBytes(out, attr), true, nil
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// stringField returns the first length-delimited field numbered num of a message as a string.
func stringField(msg []byte, num protowire.Number) (string, error) {
	var s string
	found := errors.New("found")
	err := eachField(msg, func(n protowire.Number, _, body []byte) error {
		if n == num && body != nil {
			s = string(body)
			return found
		}
		return nil
	})
	if err == found {
		err = nil
	}
	return s, err
}
