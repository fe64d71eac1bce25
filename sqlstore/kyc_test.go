package sqlstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestVerificationsAndSignUpCodes: a practice's verification is stored,
// replaced and read back, an unknown practice's is KindNotFound; a sign-up
// code is used once, by one of many sign-ups racing for it.
func TestVerificationsAndSignUpCodes(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		at := time.Date(2026, 12, 4, 10, 0, 0, 123456000, time.UTC)
		g := &tenant.Group{ID: uuid.New(), Name: "G", CreatedAt: at}
		require.NoError(t, s.Tenants.CreateGroup(ctx, g))
		p := &tenant.Practice{ID: uuid.New(), GroupID: g.ID, Name: "P", Policy: tenant.DefaultPolicy, CreatedAt: at}
		require.NoError(t, s.Tenants.CreatePractice(ctx, p))

		_, err := s.Tenants.GetVerification(ctx, p.ID)
		require.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		v := &tenant.Verification{PracticeID: p.ID, NPI: "1245319599", RegistryName: "ACME", VerifiedAt: at, VerifiedBy: "account:x"}
		require.NoError(t, s.Tenants.SaveVerification(ctx, v))
		v2 := *v
		v2.RegistryName, v2.VerifiedAt = "ACME CLINIC", at.Add(time.Hour)
		require.NoError(t, s.Tenants.SaveVerification(ctx, &v2))
		got, err := s.Tenants.GetVerification(ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, &v2, got)
		err = s.Tenants.SaveVerification(ctx, &tenant.Verification{PracticeID: uuid.New(), NPI: "1245319599", VerifiedAt: at})
		require.True(t, errs.Is(err, errs.KindNotFound), "another practice: %v", err)
		err = s.Tenants.SaveVerification(ctx, &tenant.Verification{PracticeID: p.ID, NPI: "12", VerifiedAt: at})
		require.True(t, errs.Is(err, errs.KindInvalid), "not ten digits: %v", err)

		hash := []byte("0123456789abcdef0123456789abcdef")
		require.NoError(t, s.Tenants.CreateSignUpCode(ctx, hash, "for Harbor", at))
		err = s.Tenants.UseSignUpCode(ctx, []byte("other"), p.ID, at)
		require.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Tenants.UseSignUpCode(ctx, hash, p.ID, at)
				if err == nil {
					ok.Add(1)
				} else if !errs.Is(err, errs.KindNotFound) {
					t.Errorf("UseSignUpCode: %v", err)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), ok.Load(), "the code is used once")
	})
}
