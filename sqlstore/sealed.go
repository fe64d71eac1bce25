package sqlstore

import (
	"context"
	"encoding/binary"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/google/uuid"
)

// Sealed columns. Protected health information is kept as one AEAD
// ciphertext per row (package keys), bound to the practice, the table, the
// column and the row, so that a ciphertext copied anywhere else does not
// open; beside it, the ID of the key that sealed it, so that re-encryption
// after a rotation finds the rows an older key sealed. What a row seals is a
// short list of text fields, packed by packFields.

// packVersion is the first byte of packed fields.
const packVersion = 1

// packFields packs fields: packVersion, then each field as its uvarint
// length and its bytes.
func packFields(fields ...string) []byte {
	n := 1
	for _, f := range fields {
		n += binary.MaxVarintLen32 + len(f)
	}
	b := make([]byte, 1, n)
	b[0] = packVersion
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// unpackFields returns the n fields packFields packed in b.
func unpackFields(op string, b []byte, n int) ([]string, error) {
	bad := func() error {
		return errs.E(errs.KindConflict, op, "a sealed value opened but is not in the packed format")
	}
	if len(b) == 0 || b[0] != packVersion {
		return nil, bad()
	}
	b = b[1:]
	out := make([]string, n)
	for i := range out {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, bad()
		}
		out[i] = string(b[k : k+int(l)])
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, bad()
	}
	return out, nil
}

// sealer returns the store's keys, or KindInternal if it was opened without
// a master key (WithMasterKey).
func (c *conn) keyring(op string) (*keys.Service, error) {
	if c.sealer == nil {
		return nil, errs.E(errs.KindInternal, op, "the store was opened without a master key (sqlstore.WithMasterKey): it cannot seal or open protected health information")
	}
	return c.sealer, nil
}

// sealFields packs fields and seals them for practice at b, returning the
// ciphertext and the ID of the key that sealed it.
func (c *conn) sealFields(ctx context.Context, op string, practice uuid.UUID, b keys.Binding, fields ...string) ([]byte, int64, error) {
	k, err := c.keyring(op)
	if err != nil {
		return nil, 0, err
	}
	ct, err := k.Seal(ctx, practice, b, packFields(fields...))
	if err != nil {
		return nil, 0, errs.Wrap(errs.KindOf(err), op, "cannot seal "+b.String(), err)
	}
	return ct, int64(keys.KeyID(ct)), nil
}

// openFields opens the n fields sealFields sealed for practice at b. A
// ciphertext that does not open there fails with KindConflict naming b.
func (c *conn) openFields(ctx context.Context, op string, practice uuid.UUID, b keys.Binding, ct []byte, n int) ([]string, error) {
	k, err := c.keyring(op)
	if err != nil {
		return nil, err
	}
	pt, err := k.Open(ctx, practice, b, ct)
	if err != nil {
		return nil, errs.Wrap(errs.KindOf(err), op, "cannot open "+b.String(), err)
	}
	return unpackFields(op, pt, n)
}

// token returns practice's blind index token of value under the index
// name, n bytes long (keys.IndexSize for an exact index), or nil for an
// empty value: an empty field has no token, and matches no lookup.
func (c *conn) token(ctx context.Context, op string, practice uuid.UUID, name, value string, n int) ([]byte, error) {
	if value == "" {
		return nil, nil
	}
	k, err := c.keyring(op)
	if err != nil {
		return nil, err
	}
	t, err := k.TruncatedIndex(ctx, practice, name, []byte(value), n)
	if err != nil {
		return nil, errs.Wrap(errs.KindOf(err), op, "cannot index "+name, err)
	}
	return t, nil
}

// prefix returns the first n runes of s, or "" if s is shorter.
func prefix(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	if n == 0 {
		return s
	}
	return ""
}

// resealRows rewrites, in one transaction, up to limit rows of practice
// (of R's table, alias its alias in queries; columns are those read, all
// when nil) whose sealed value an older
// key than the practice's primary sealed, or that are still in clear
// (sealed NULL), with rewrite, which opens a row and writes it sealed
// anew. It returns how many it rewrote: 0 when none is left. What is left
// to do is read from the rows themselves (their sealed_key), so a run cut
// short is finished by the next and none rewrites a row twice; the rows
// are locked (FOR UPDATE on PostgreSQL, SQLite's one writer) so that a
// concurrent write is neither lost nor overwritten.
func resealRows[R any](ctx context.Context, c *conn, op string, practice uuid.UUID, limit int, alias string,
	columns []string, rewrite func(ctx context.Context, r *R) error) (int, error) {
	return resealRowsBy(ctx, c, op, practice, limit, alias, alias+".id", columns, rewrite)
}

// resealRowsBy is resealRows over a table whose rows are taken in the
// order of the expression order rather than by an id column (such as
// ehr_versions, keyed by patient and seq).
func resealRowsBy[R any](ctx context.Context, c *conn, op string, practice uuid.UUID, limit int, alias, order string,
	columns []string, rewrite func(ctx context.Context, r *R) error) (int, error) {
	if limit <= 0 {
		return 0, errs.Invalid(op, "limit", "must be positive")
	}
	k, err := c.keyring(op)
	if err != nil {
		return 0, err
	}
	primary, err := k.PrimaryKeyID(ctx, practice)
	if err != nil {
		return 0, err
	}
	n := 0
	err = c.InTx(ctx, func(ctx context.Context) error {
		var rows []R
		q := c.idb(ctx).NewSelect().Model(&rows)
		if len(columns) > 0 {
			q = q.Column(columns...)
		}
		q = q.Where(alias+".practice_id = ? AND ("+alias+".sealed IS NULL OR "+alias+".sealed_key <> ?)", practice, int64(primary)).
			OrderExpr(order).Limit(int64(limit))
		if c.dialect == Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return failure(op, "row", err)
		}
		for i := range rows {
			if err := rewrite(ctx, &rows[i]); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	return n, err
}
