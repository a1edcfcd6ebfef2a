package seal

import (
	"fmt"
	"slices"
)

// Role is what a principal may do.
type Role string

const (
	// RoleClerk seals documents for its township, at its windows.
	RoleClerk Role = "clerk"
	// RoleAdmin is the county office (县政务服务监督管理办公室): it registers
	// townships, items and seals.
	RoleAdmin Role = "admin"
	// RoleSupervisor is a county department: it reads the records of its
	// domains.
	RoleSupervisor Role = "supervisor"
)

// Principal is an authenticated caller.
type Principal struct {
	ID       string // stable identifier, recorded in the ledger
	Name     string // for people: who this is
	Role     Role
	Township string   // clerks: the one township whose seal they use
	Windows  []Window // clerks: the windows they work at
	Domains  []string // supervisors: the domains whose records they read
}

// AtWindow reports whether the principal works at window w.
func (p *Principal) AtWindow(w Window) bool { return slices.Contains(p.Windows, w) }

// Supervises reports whether the principal may read records of domain d.
func (p *Principal) Supervises(d string) bool {
	return p.Role == RoleAdmin || (p.Role == RoleSupervisor && slices.Contains(p.Domains, d))
}

// Validate checks that the principal's bindings fit its role: a clerk has
// exactly one township and at least one township window; a supervisor has
// at least one domain.
func (p *Principal) Validate() error {
	if !validText(p.ID, 128) {
		return fmt.Errorf("principal id %q is empty or too long", p.ID)
	}
	switch p.Role {
	case RoleClerk:
		if !isDivisionCode(p.Township) {
			return fmt.Errorf("clerk %s: township %q is not a division code", p.ID, p.Township)
		}
		if len(p.Windows) == 0 {
			return fmt.Errorf("clerk %s: no window", p.ID)
		}
		for _, w := range p.Windows {
			if w != WindowApproval && w != WindowService {
				return fmt.Errorf("clerk %s: window %q is not a township window", p.ID, w)
			}
		}
	case RoleSupervisor:
		if len(p.Domains) == 0 {
			return fmt.Errorf("supervisor %s: no domain", p.ID)
		}
	case RoleAdmin:
	default:
		return fmt.Errorf("principal %s: unknown role %q", p.ID, p.Role)
	}
	return nil
}
