package store

// ReadAhead reads the chunk of a rescore after the lead id after, as the
// writer does for the next chunk while it writes one, and returns once it is
// read: a test changes leads between the read and the write.
func (db *DB) ReadAhead(after int64) {
	db.startReadAhead(after)
	db.WaitReadAhead()
}

// WaitReadAhead waits until the chunk being read ahead, if any, is read.
func (db *DB) WaitReadAhead() {
	db.ahead.mu.Lock()
	b := db.ahead.next
	db.ahead.mu.Unlock()
	if b != nil {
		<-b.done
	}
}

// SetRescoreChunk makes rescores take n leads a transaction until the
// returned function restores the size.
func SetRescoreChunk(n int) (restore func()) {
	old := rescoreChunk
	rescoreChunk = n
	return func() { rescoreChunk = old }
}

// SetAccountRescoreNow makes account edits rescore at most n leads in their
// own transaction (more by a job) until the returned function restores it.
func SetAccountRescoreNow(n int) (restore func()) {
	old := accountRescoreNow
	accountRescoreNow = n
	return func() { accountRescoreNow = old }
}

// StateCounts returns the behaviour counts kept in a stored scoring state.
func StateCounts(stored []byte) (map[string]int, error) {
	st, err := parseState(stored)
	if err != nil {
		return nil, err
	}
	return st.Counts, nil
}
