package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// wantsAnnotation is the flag annotation that says, in words, what a flag's value must be
// ("a number of directories"), for the error a bad value gets.
const wantsAnnotation = "webperm_wants"

// setWants records what the flag name of f wants, for describeFlagError.
func setWants(f *pflag.FlagSet, name, wants string) {
	if err := f.SetAnnotation(name, wantsAnnotation, []string{wants}); err != nil {
		panic("webperm: " + err.Error()) // a flag registered under another name: caught by the tests
	}
}

// describeFlagError turns pflag's errors into webperm's: a bad value says what the flag wants
// and what it got ("--jobs wants a number of directories, got abc"), never a Go parse error;
// every flag error points to the command's help. A flag after a mistyped command is no fault
// of the flag's.
func describeFlagError(c *cobra.Command, err error) error {
	if args := c.Flags().Args(); len(args) > 0 && c.HasAvailableSubCommands() {
		return unknownCommand(c, args[0]) // "webperm audti -j 2": the flag is audit's, the typo is the fault
	}
	var invalid *pflag.InvalidValueError
	var missing *pflag.ValueRequiredError
	switch {
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		err = fmt.Errorf("--%s wants %s, got %s", f.Name, flagWants(f), invalid.GetValue())
	case errors.As(err, &missing):
		f := missing.GetFlag()
		err = fmt.Errorf("--%s wants %s", f.Name, flagWants(f))
	}
	return withHint(err, "see '%s --help'", c.CommandPath())
}

// flagWants says what f's value must be: its annotation, else what its type or its usage's
// `NAME` says.
func flagWants(f *pflag.Flag) string {
	if w := f.Annotations[wantsAnnotation]; len(w) == 1 {
		return w[0]
	}
	switch f.Value.Type() {
	case "bool":
		return "true or false"
	case "int":
		return "a whole number"
	}
	if name, _ := pflag.UnquoteUsage(f); name != "" && name != f.Value.Type() {
		return name
	}
	return "a value"
}
