package rbac_test

import (
	"testing"

	"github.com/carebook/carebook/rbac"
	"github.com/google/uuid"
)

// TestMayReach: a grant at the practice, a location or a patient of it, or
// over any group may reach into the practice; grants elsewhere and no
// grant do not.
func TestMayReach(t *testing.T) {
	group, practice, other := uuid.New(), uuid.New(), uuid.New()
	for _, tc := range []struct {
		name  string
		role  rbac.RoleID
		scope rbac.Scope
		want  bool
	}{
		{"practice admin here", rbac.PracticeAdminID, rbac.PracticeScope(group, practice), true},
		{"front desk of a location here", rbac.FrontDeskID, rbac.LocationScope(group, practice, uuid.New()), true},
		{"patient here", rbac.PatientRoleID, rbac.SelfScope(group, practice, uuid.New()), true},
		{"group admin of some group", rbac.GroupAdminID, rbac.GroupScope(uuid.New()), true},
		{"patient elsewhere", rbac.PatientRoleID, rbac.SelfScope(group, other, uuid.New()), false},
		{"practice admin elsewhere", rbac.PracticeAdminID, rbac.PracticeScope(group, other), false},
	} {
		account := uuid.New()
		p, err := rbac.NewPrincipal(account, []*rbac.Grant{{ID: uuid.New(), AccountID: account, RoleID: tc.role, Scope: tc.scope}}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := rbac.MayReach(p, practice); got != tc.want {
			t.Errorf("%s: MayReach = %v, want %v", tc.name, got, tc.want)
		}
	}
	none, err := rbac.NewPrincipal(uuid.New(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rbac.MayReach(none, practice) {
		t.Error("no grant: MayReach = true")
	}
}
