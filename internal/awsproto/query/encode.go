package query

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// ContentType is the Content-Type of the documents MarshalResponse and
// MarshalError produce (the value AWS Query services send).
const ContentType = "text/xml"

// MarshalResponse returns the success document of operation op:
//
//	<{op}Response xmlns="{ns}">
//	  <{op}Result>…result…</{op}Result>
//	  <ResponseMetadata><RequestId>{requestID}</RequestId></ResponseMetadata>
//	</{op}Response>
//
// result is a struct or a pointer to one whose fields carry encoding/xml tags
// (`xml:"DbUser"`, `xml:"Clusters>Cluster"`, `xml:"Users>member"`); any
// XMLName it has is overridden by {op}Result. A nil result (or a nil
// pointer) means the operation has no result element at all, as for IAM
// DeleteUser. The document has no XML declaration and no indentation; all
// text is escaped by encoding/xml. An empty ns omits the xmlns attribute.
//
// op must be a plain operation name (letters and digits, starting with a
// letter); anything else, a non-struct result, or a result encoding/xml
// cannot marshal is an error.
func MarshalResponse(op, ns, requestID string, result any) ([]byte, error) {
	if !validOp(op) {
		return nil, fmt.Errorf("query: invalid operation name %q", op)
	}
	if result != nil {
		rv := reflect.ValueOf(result)
		if rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				result = nil
			} else {
				rv = rv.Elem()
			}
		}
		if result != nil && rv.Kind() != reflect.Struct {
			return nil, fmt.Errorf("query: %s result must be a struct or pointer to struct, not %T", op, result)
		}
	}
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Space: ns, Local: op + "Response"}}
	if err := enc.EncodeToken(root); err != nil {
		return nil, fmt.Errorf("query: encode %s response: %w", op, err)
	}
	if result != nil {
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}}); err != nil {
			return nil, fmt.Errorf("query: encode %s result: %w", op, err)
		}
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{requestID}
	if err := enc.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, fmt.Errorf("query: encode %s response metadata: %w", op, err)
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return nil, fmt.Errorf("query: encode %s response: %w", op, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("query: encode %s response: %w", op, err)
	}
	return buf.Bytes(), nil
}

func validOp(op string) bool {
	if op == "" {
		return false
	}
	for i := 0; i < len(op); i++ {
		c := op[i]
		letter := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// MarshalError returns the error document:
//
//	<ErrorResponse xmlns="{ns}">
//	  <Error><Type>{typ}</Type><Code>{code}</Code><Message>{message}</Message></Error>
//	  <RequestId>{requestID}</RequestId>
//	</ErrorResponse>
//
// typ is "Sender" (4xx) or "Receiver" (5xx); an empty typ means "Sender". An
// empty message omits the Message element. All text is escaped (text that is
// not valid XML, such as invalid UTF-8, becomes U+FFFD), so MarshalError
// cannot fail. An empty ns omits the xmlns attribute.
func MarshalError(ns, requestID, typ, code, message string) []byte {
	if typ == "" {
		typ = "Sender"
	}
	var buf bytes.Buffer
	buf.Grow(160 + len(ns) + len(requestID) + len(code) + len(message))
	buf.WriteString("<ErrorResponse")
	if ns != "" {
		buf.WriteString(` xmlns="`)
		escape(&buf, ns)
		buf.WriteByte('"')
	}
	buf.WriteString("><Error><Type>")
	escape(&buf, typ)
	buf.WriteString("</Type><Code>")
	escape(&buf, code)
	buf.WriteString("</Code>")
	if message != "" {
		buf.WriteString("<Message>")
		escape(&buf, message)
		buf.WriteString("</Message>")
	}
	buf.WriteString("</Error><RequestId>")
	escape(&buf, requestID)
	buf.WriteString("</RequestId></ErrorResponse>")
	return buf.Bytes()
}

// escape writes s XML-escaped; xml.EscapeText into a bytes.Buffer never fails.
func escape(buf *bytes.Buffer, s string) { _ = xml.EscapeText(buf, []byte(s)) }

// Timestamp is a time that marshals the way AWS Query services write
// timestamps: ISO-8601 in UTC, with milliseconds only when they are non-zero
// ("2016-12-08T21:12:53Z", "2016-12-08T21:12:53.520Z"; finer precision is
// truncated). A zero Timestamp marshals to nothing: the element or attribute
// is omitted, with or without omitempty.
type Timestamp time.Time

// Time returns t as a time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// IsZero reports whether t is the zero time.
func (t Timestamp) IsZero() bool { return time.Time(t).IsZero() }

// String returns the wire form, or "" for the zero time.
func (t Timestamp) String() string {
	b, err := t.MarshalText()
	if err != nil {
		return time.Time(t).UTC().String()
	}
	return string(b)
}

const (
	layoutSeconds = "2006-01-02T15:04:05Z"
	layoutMillis  = "2006-01-02T15:04:05.000Z"
)

// MarshalText implements encoding.TextMarshaler. The zero time is empty; a
// year outside 0000..9999 is an error.
func (t Timestamp) MarshalText() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return nil, nil
	}
	tt = tt.UTC().Truncate(time.Millisecond)
	if y := tt.Year(); y < 0 || y > 9999 {
		return nil, errors.New("query: Timestamp year outside 0000..9999")
	}
	if tt.Nanosecond() == 0 {
		return tt.AppendFormat(nil, layoutSeconds), nil
	}
	return tt.AppendFormat(nil, layoutMillis), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, accepting ISO-8601
// (RFC 3339) with or without fractional seconds; empty text is the zero time.
func (t *Timestamp) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = Timestamp{}
		return nil
	}
	tt, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return fmt.Errorf("query: parse timestamp: %w", err)
	}
	*t = Timestamp(tt.UTC())
	return nil
}

// MarshalXML implements xml.Marshaler: the zero time writes nothing.
func (t Timestamp) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if t.IsZero() {
		return nil
	}
	b, err := t.MarshalText()
	if err != nil {
		return err
	}
	return e.EncodeElement(string(b), start)
}

// MarshalXMLAttr implements xml.MarshalerAttr: the zero time writes no
// attribute.
func (t Timestamp) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	if t.IsZero() {
		return xml.Attr{}, nil
	}
	b, err := t.MarshalText()
	if err != nil {
		return xml.Attr{}, err
	}
	return xml.Attr{Name: name, Value: string(b)}, nil
}

var (
	_ xml.Marshaler     = Timestamp{}
	_ xml.MarshalerAttr = Timestamp{}
)
