package config

import "testing"

// FuzzDecode: arbitrary YAML never panics the decoder or the linter, and
// whatever decodes can be validated.
func FuzzDecode(f *testing.F) {
	f.Add("listen: 127.0.0.1:1\n")
	f.Add("store:\n  type: postgres\n  url: postgres://u:fuzzpassword@h/db\n")
	f.Add("clusters:\n  - identifier: a\n    endpoint: {address: h}\n    <<: {admin_url: x}\n")
	f.Add("a: &x {b: 1}\nc: *x\n")
	f.Add("log: &l {level: info}\nstore: *l\n")
	f.Add("root:\n  secret_access_key: fuzzpassword\n")
	f.Add("shutdown_timeout: [1]\n")
	f.Fuzz(func(t *testing.T, data string) {
		c := Default()
		if err := c.decode("fuzz.yaml", []byte(data)); err == nil {
			_ = c.Validate()
		}
	})
}
