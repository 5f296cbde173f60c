package imageio

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strings"
)

// dream's texts in XMP are simple properties of its own namespace, named as the PNG
// keywords are: dream:Dream, dream:sd-metadata, dream:postprocessing. The namespace is a
// name, not an address anyone serves; .invalid is a domain no one can own.
const (
	xmpNamespace = "http://ns.dream.invalid/1.0/"
	rdfNamespace = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	// xmpJPEGHeader starts the APP1 segment that holds a JPEG's XMP packet.
	xmpJPEGHeader = "http://ns.adobe.com/xap/1.0/\x00"
)

// xmpText is one text of dream's namespace.
type xmpText struct{ key, value string }

// xmpPacket is an XMP packet holding texts, wrapped as XMP's specification asks (the
// xpacket processing instructions let tools find and rewrite it in place).
func xmpPacket(texts []xmpText) []byte {
	var b bytes.Buffer
	b.WriteString("<?xpacket begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	b.WriteString(`<x:xmpmeta xmlns:x="adobe:ns:meta/">` + "\n")
	b.WriteString(` <rdf:RDF xmlns:rdf="` + rdfNamespace + `">` + "\n")
	b.WriteString(`  <rdf:Description rdf:about="" xmlns:dream="` + xmpNamespace + `">` + "\n")
	for _, t := range texts {
		b.WriteString("   <dream:" + t.key + ">")
		xml.EscapeText(&b, []byte(t.value)) // a bytes.Buffer does not fail
		b.WriteString("</dream:" + t.key + ">\n")
	}
	b.WriteString("  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n")
	b.WriteString(`<?xpacket end="w"?>`)
	return b.Bytes()
}

// xmpTexts reads dream's texts from an XMP packet: the properties of its namespace whose
// names are PNG keywords dream writes, whether written as elements (as dream does) or as
// attributes of rdf:Description (as some tools rewrite simple properties). A packet that is
// not well-formed XML gives what was read before the fault.
func xmpTexts(packet []byte) map[string]string {
	texts := map[string]string{}
	d := xml.NewDecoder(bytes.NewReader(packet))
	open := "" // the property being read
	var value strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == rdfNamespace && t.Name.Local == "Description" {
				for _, a := range t.Attr {
					if isDreamProperty(a.Name) {
						texts[a.Name.Local] = a.Value
					}
				}
			}
			if isDreamProperty(t.Name) {
				open = t.Name.Local
				value.Reset()
			}
		case xml.CharData:
			if open != "" {
				value.Write(t)
			}
		case xml.EndElement:
			if open != "" && t.Name.Local == open {
				texts[open] = value.String()
				open = ""
			}
		}
	}
	if len(texts) == 0 {
		return nil
	}
	return texts
}

// isDreamProperty reports whether name is one of the texts dream keeps in XMP.
func isDreamProperty(name xml.Name) bool {
	return name.Space == xmpNamespace && slices.Contains(xmpKeys, name.Local)
}
