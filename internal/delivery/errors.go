package delivery

import "errors"

// Kind says what the Runner does after a failed Send.
type Kind int

const (
	// Retry (5xx, network errors, timeouts): keep the batch and try it
	// again after the backoff.
	Retry Kind = iota
	// BadData (the server says the points are bad): drop that batch, count
	// it as rejected and log it; a retry cannot help.
	BadData
	// Auth (401, 403): keep the data and retry after the backoff; the log
	// says that the credentials are wrong.
	Auth
	// Config (e.g. the database does not exist): keep the data and retry
	// after the backoff; the log says which setting is wrong.
	Config
)

func (k Kind) String() string {
	switch k {
	case BadData:
		return "bad data"
	case Auth:
		return "authentication"
	case Config:
		return "configuration"
	}
	return "retryable"
}

// Error is an error a Sender classified.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Classify wraps err with a Kind. nil stays nil.
func Classify(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// KindOf returns the Kind of err: Retry unless a Sender classified it.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Retry
}
