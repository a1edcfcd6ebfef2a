// Package cli is sealctl, the clerks' and administrators' command line: it
// seals files (one at a time or in batches) through the service, lists and
// administers townships, items, seals and principals, reads and verifies
// the ledger, and verifies sealed PDFs offline.
//
// It touches the files named on its command line, the credential file it is
// given, and the service at --server. Output is a table for people or JSON
// for scripts (--output json); messages are in Chinese or English (--lang).
package cli
