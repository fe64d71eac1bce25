package web

// spanish is the pages' Spanish: the same keys as english.
var spanish = merge(
	catalog{
		"shell.skip":         "Ir al contenido",
		"shell.nav":          "Principal",
		"shell.signout":      "Cerrar sesión",
		"shell.other_lang":   "English",
		"shell.new_requests": "%d solicitudes nuevas",
		"form.fix":           "Corrija el campo indicado abajo.",
		"form.save":          "Guardar",
		"form.cancel":        "Cancelar",
		"link.title":         "Su cita",

		"nav.book":          "Pedir una cita",
		"nav.visits":        "Mis citas",
		"nav.preferences":   "Preferencias",
		"nav.calendar":      "Agenda",
		"nav.requests":      "Solicitudes",
		"nav.book_for":      "Citar a un paciente",
		"nav.setup":         "Configuración",
		"nav.staff":         "Personal",
		"nav.notifications": "Notificaciones",
		"nav.activity":      "Registro de actividad",

		"account.title":        "Su cuenta",
		"account.signed_in_as": "Sesión iniciada como",
		"account.practice":     "Consultorio",
		"account.home":         "Ir a su página de inicio",

		"signin.title":             "Iniciar sesión",
		"signin.email":             "Correo electrónico",
		"signin.password":          "Contraseña",
		"signin.code":              "Código de su aplicación de autenticación",
		"signin.code_hint":         "(6 dígitos, o un código de recuperación)",
		"signin.code_needed":       "Escriba el código de su aplicación de autenticación, y otra vez su contraseña.",
		"signin.code_refused":      "Ese código no es correcto: escriba el código actual, y otra vez su contraseña.",
		"signin.submit":            "Entrar",
		"signin.ended":             "Se cerró su sesión por inactividad. Vuelva a iniciar sesión.",
		"signin.refused":           "El correo o la contraseña no son correctos.",
		"signin.email_required":    "Escriba su correo electrónico.",
		"signin.password_required": "Escriba su contraseña.",
		"signin.new_clinic":        "¿Una clínica nueva?",
		"signin.new_clinic_link":   "Configure su consultorio",
	},
	esPatient, esDesk, esAdmin, esStaff,
)

// esPatient is the Spanish of the patients' pages.
var esPatient = catalog{}

// esDesk is the Spanish of the front desk's pages.
var esDesk = catalog{}

// esAdmin is the Spanish of the administrators' setup pages and onboarding.
var esAdmin = catalog{}

// esStaff is the Spanish of the staff, notifications, activity-log and
// account pages.
var esStaff = catalog{}
