package carebook

// EnterReadOnly and LeaveReadOnly are the engine's enterReadOnly and
// leaveReadOnly, for the tests of package carebook_test.
var (
	EnterReadOnly = (*Engine).enterReadOnly
	LeaveReadOnly = (*Engine).leaveReadOnly
)
