package saml_test

import (
	"fmt"

	"github.com/dbiam/dbiam/internal/saml"
)

// The NameQualifier AWS returns for the documentation's example provider.
func ExampleNameQualifier() {
	fmt.Println(saml.NameQualifier("https://example.com/saml", "123456789012", "MySAMLIdP"))
	// Output: 1uAJanUnBc2XeUkHURMht+xam2c=
}
