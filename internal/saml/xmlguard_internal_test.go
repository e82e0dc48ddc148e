package saml

import (
	"strings"
	"testing"
)

// TestGuardXML checks the pre-parse gate directly, including the
// encoding/xml round-trip vectors of mattermost/xml-roundtrip-validator's own
// tests and the Dec 2020 advisories.
func TestGuardXML(t *testing.T) {
	lim := guardLimits{maxElements: maxElements, maxAttrs: maxTotalAttrs}
	for _, ok := range []string{
		`<Root></Root>`,
		`<x:Root xmlns:x="http://example.com/"></x:Root>`,
		`<x:Root xmlns:x="http://example.com/" xmlns="urn:d"><x:a x:b="1" c="2"/></x:Root>`,
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Root>text &quot;hello&quot;</Root>\n",
		`<Root><![CDATA[text "hello"]]></Root>`,
		`<!-- comment --><Root/>`,
		`<Root xml:lang="en"/>`,
		`<Root xmlns=""/>`,
	} {
		if err := guardXML([]byte(ok), lim); err != nil {
			t.Errorf("guardXML(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{
		``,
		`<x::Root/>`,
		`<Root><x::Element></::Element></Root>`,
		`<x:>`,
		`</x:>`,
		`<Root :="value"/>`,
		`<Root x:="value"/>`,
		`<Root xmlns:="urn:x"/>`,
		`<Root ::attr="foo"/>`,
		`<Root><! <<!-- -->!-- x --> y></Root>`,
		`<Root><! ">" <X/>></Root>`,
		`<Root><!--`,
		`<Root>]]></Root>`,
		`<x:Root></x:Root>`, // undeclared prefix
		`<Root x:a="1"/>`,   // undeclared attribute prefix
		`<Root xmlns:a="urn:x" xmlns:b="urn:x" a:n="1" b:n="2"/>`, // duplicate expanded name
		`<Root a="1" a="2"/>`,
		`<Root xmlns="a" xmlns="b"/>`,
		`<a><b></a></b>`,
		`<a></b>`,
		`<a>`,
		`<?xml version="1.0" encoding="EUC-JP"?><Root/>`,
		`<Root/><?pi x?>`,
		` <?xml version="1.0"?><Root/>`,
		"<Root>\x01</Root>",
		`<Root>&unknown;</Root>`,
		`<Root><!-- a -- b --></Root>`,
		strings.Repeat("<a>", maxDepth+1) + strings.Repeat("</a>", maxDepth+1),
	} {
		if err := guardXML([]byte(bad), lim); err == nil {
			t.Errorf("guardXML(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "Root") {
			t.Errorf("guardXML error quotes the input: %v", err)
		}
	}
}
