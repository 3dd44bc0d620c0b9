module github.com/cgmon/cgmon

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	github.com/netresearch/go-cron v0.9.1
	github.com/spf13/cobra v1.9.1
	github.com/spf13/pflag v1.0.6
	golang.org/x/crypto v0.45.0
	golang.org/x/sys v0.38.0
)

require github.com/inconshreveable/mousetrap v1.1.0 // indirect
