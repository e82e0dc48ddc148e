package query

import (
	"encoding/xml"
	"testing"
	"time"
)

type clusterCredentials struct {
	DbUser     string    `xml:"DbUser"`
	DbPassword string    `xml:"DbPassword"`
	Expiration Timestamp `xml:"Expiration"`
}

type cluster struct {
	ClusterIdentifier string `xml:"ClusterIdentifier"`
	Address           string `xml:"Endpoint>Address"`
	Port              int    `xml:"Endpoint>Port"`
}

type describeClusters struct {
	XMLName  xml.Name  `xml:"Ignored"`
	Clusters []cluster `xml:"Clusters>Cluster"`
	Marker   string    `xml:"Marker,omitempty"`
}

func TestMarshalResponse(t *testing.T) {
	const rs = "http://redshift.amazonaws.com/doc/2012-12-01/"
	exp := Timestamp(time.Date(2016, 12, 8, 21, 12, 53, 520e6, time.UTC))
	tests := []struct {
		name   string
		op, ns string
		result any
		want   string
	}{
		{
			name: "get cluster credentials",
			op:   "GetClusterCredentials", ns: rs,
			result: clusterCredentials{DbUser: "IAMA:alice", DbPassword: "p<&>\"'w", Expiration: exp},
			want: `<GetClusterCredentialsResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/">` +
				`<GetClusterCredentialsResult><DbUser>IAMA:alice</DbUser><DbPassword>p&lt;&amp;&gt;&#34;&#39;w</DbPassword>` +
				`<Expiration>2016-12-08T21:12:53.520Z</Expiration></GetClusterCredentialsResult>` +
				`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetClusterCredentialsResponse>`,
		},
		{
			name: "pointer result, wrapped list, XMLName overridden",
			op:   "DescribeClusters", ns: rs,
			result: &describeClusters{Clusters: []cluster{{ClusterIdentifier: "c1", Address: "pg.internal", Port: 5439}}},
			want: `<DescribeClustersResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"><DescribeClustersResult>` +
				`<Clusters><Cluster><ClusterIdentifier>c1</ClusterIdentifier><Endpoint><Address>pg.internal</Address><Port>5439</Port></Endpoint></Cluster></Clusters>` +
				`</DescribeClustersResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeClustersResponse>`,
		},
		{
			name: "no result element",
			op:   "DeleteUser", ns: "https://iam.amazonaws.com/doc/2010-05-08/",
			want: `<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DeleteUserResponse>`,
		},
		{
			name: "nil pointer is no result",
			op:   "DeleteUser", result: (*clusterCredentials)(nil),
			want: `<DeleteUserResponse><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DeleteUserResponse>`,
		},
		{
			name: "empty result struct",
			op:   "Empty", result: struct{}{},
			want: `<EmptyResponse><EmptyResult></EmptyResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></EmptyResponse>`,
		},
		{
			name: "zero timestamp omitted",
			op:   "GetClusterCredentials", result: clusterCredentials{DbUser: "u"},
			want: `<GetClusterCredentialsResponse><GetClusterCredentialsResult><DbUser>u</DbUser><DbPassword></DbPassword></GetClusterCredentialsResult>` +
				`<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetClusterCredentialsResponse>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MarshalResponse(tt.op, tt.ns, "req-1", tt.result)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if err := xml.Unmarshal(got, new(struct{})); err != nil {
				t.Errorf("not well-formed: %v", err)
			}
		})
	}
}

func TestMarshalResponseErrors(t *testing.T) {
	tests := []struct {
		name   string
		op     string
		result any
	}{
		{name: "empty op", op: ""},
		{name: "op with markup", op: "A><B"},
		{name: "op starting with digit", op: "1Op"},
		{name: "non struct result", op: "Op", result: "text"},
		{name: "unmarshalable field", op: "Op", result: struct{ C chan int }{}},
		{name: "timestamp out of range", op: "Op", result: struct{ T Timestamp }{Timestamp(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := MarshalResponse(tt.op, "", "r", tt.result); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestMarshalError(t *testing.T) {
	tests := []struct {
		name                         string
		ns, id, typ, code, msg, want string
		decoded                      string // Message as an XML parser reads it, when it differs from msg
	}{
		{
			name: "sender", ns: "https://sts.amazonaws.com/doc/2011-06-15/", id: "r1", typ: "Sender", code: "MissingParameter",
			msg: "The request must contain the parameter DbUser",
			want: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>MissingParameter</Code>` +
				`<Message>The request must contain the parameter DbUser</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
		},
		{
			name: "default type and escaping", id: "<id>", code: "A&B", msg: "x<y>\"z'\n",
			want: `<ErrorResponse><Error><Type>Sender</Type><Code>A&amp;B</Code><Message>x&lt;y&gt;&#34;z&#39;&#xA;</Message></Error>` +
				`<RequestId>&lt;id&gt;</RequestId></ErrorResponse>`,
		},
		{
			name: "receiver without message", ns: `a"b`, id: "r", typ: "Receiver", code: "InternalFailure",
			want: `<ErrorResponse xmlns="a&#34;b"><Error><Type>Receiver</Type><Code>InternalFailure</Code></Error><RequestId>r</RequestId></ErrorResponse>`,
		},
		{
			name: "invalid xml characters replaced", id: "r", code: "C", msg: "a\x00b\xffc",
			want:    "<ErrorResponse><Error><Type>Sender</Type><Code>C</Code><Message>a\uFFFDb\uFFFDc</Message></Error><RequestId>r</RequestId></ErrorResponse>",
			decoded: "a\uFFFDb\uFFFDc",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MarshalError(tt.ns, tt.id, tt.typ, tt.code, tt.msg)
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			var doc struct {
				Err struct {
					Type    string `xml:"Type"`
					Code    string `xml:"Code"`
					Message string `xml:"Message"`
				} `xml:"Error"`
				RequestID string `xml:"RequestId"`
			}
			if err := xml.Unmarshal(got, &doc); err != nil {
				t.Fatalf("not well-formed: %v", err)
			}
			if doc.Err.Code != tt.code || doc.RequestID != tt.id {
				t.Errorf("round trip: %+v", doc)
			}
			wantMsg := tt.msg
			if tt.decoded != "" {
				wantMsg = tt.decoded
			}
			if doc.Err.Message != wantMsg {
				t.Errorf("message round trip: %q, want %q", doc.Err.Message, wantMsg)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{name: "seconds", in: time.Date(2016, 12, 8, 21, 12, 53, 0, time.UTC), want: "2016-12-08T21:12:53Z"},
		{name: "millis", in: time.Date(2016, 12, 8, 21, 12, 53, 520e6, time.UTC), want: "2016-12-08T21:12:53.520Z"},
		{name: "sub-millisecond truncated", in: time.Date(2016, 12, 8, 21, 12, 53, 999_999, time.UTC), want: "2016-12-08T21:12:53Z"},
		{name: "micro and millis", in: time.Date(2016, 12, 8, 21, 12, 53, 1_500_000, time.UTC), want: "2016-12-08T21:12:53.001Z"},
		{name: "converted to UTC", in: time.Date(2016, 12, 8, 22, 12, 53, 0, time.FixedZone("CET", 3600)), want: "2016-12-08T21:12:53Z"},
		{name: "zero", in: time.Time{}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := Timestamp(tt.in)
			if got := ts.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			el, err := xml.Marshal(struct {
				XMLName xml.Name  `xml:"R"`
				A       Timestamp `xml:"a,attr"`
				E       Timestamp `xml:"E"`
				O       Timestamp `xml:"O,omitempty"`
			}{A: ts, E: ts, O: ts})
			if err != nil {
				t.Fatal(err)
			}
			want := `<R a="` + tt.want + `"><E>` + tt.want + `</E><O>` + tt.want + `</O></R>`
			if tt.want == "" {
				want = `<R></R>`
			}
			if string(el) != want {
				t.Errorf("xml = %s, want %s", el, want)
			}
			var back Timestamp
			if err := back.UnmarshalText([]byte(tt.want)); err != nil {
				t.Fatal(err)
			}
			if !back.Time().Equal(tt.in.Truncate(time.Millisecond)) {
				t.Errorf("round trip = %v, want %v", back.Time(), tt.in)
			}
		})
	}
	var bad Timestamp
	if err := bad.UnmarshalText([]byte("tomorrow")); err == nil {
		t.Error("UnmarshalText accepted garbage")
	}
}
