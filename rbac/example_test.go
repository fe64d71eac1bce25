package rbac_test

import (
	"context"
	"fmt"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/google/uuid"
)

// A front desk operator of one location may book there, may not read charts,
// and sees another practice as none of their business.
func ExampleAuthorize() {
	ctx := context.Background()
	group, practice, other := uuid.New(), uuid.New(), uuid.New()
	desk, elsewhere := uuid.New(), uuid.New()
	account := uuid.New()

	p, err := rbac.NewPrincipal(account, []*rbac.Grant{{
		ID:        uuid.New(),
		AccountID: account,
		RoleID:    rbac.FrontDeskID,
		Scope:     rbac.LocationScope(group, practice, desk),
	}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}

	here := rbac.Target{GroupID: group, PracticeID: practice, LocationID: &desk}
	fmt.Println("book here:", rbac.Authorize(ctx, p, rbac.AppointmentBook, here) == nil)
	err = rbac.Authorize(ctx, p, rbac.PatientClinicalRead, here)
	fmt.Println("read chart:", errs.KindOf(err))
	there := rbac.Target{GroupID: group, PracticeID: practice, LocationID: &elsewhere}
	fmt.Println("book at another location:", errs.KindOf(rbac.Authorize(ctx, p, rbac.AppointmentBook, there)))
	fmt.Printf("view: %+v\n", rbac.View(p, here))
	fmt.Println("member of another practice:", rbac.Member(p, other, group))
	// Output:
	// book here: true
	// read chart: forbidden
	// book at another location: forbidden
	// view: {Contact:true Clinical:false}
	// member of another practice: false
}
