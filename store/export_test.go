package store

// ReadAhead reads the chunk of a rescore after the lead id after, as the
// writer does for the next chunk while it writes one, and returns once it is
// read: a test changes leads between the read and the write.
func (db *DB) ReadAhead(after int64) {
	db.startReadAhead(after)
	db.ahead.mu.Lock()
	b := db.ahead.next
	db.ahead.mu.Unlock()
	<-b.done
}
