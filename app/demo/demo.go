// Package demo builds the demo world that a server in demo mode loads on its
// first start: categories, cities, four partners with their
// offers and pictures, and a fixed set of accounts — members, partner staff and
// platform staff — that the demo sign-in page lists.
//
// The accounts register through the ordinary sign-in path, so each of them has
// accepted the terms and consented to personal-data processing like a real
// member. No phone number appears anywhere in the demo data.
package demo

// Roles an Account can have. RoleMember is a plain club member; the others are
// the staff roles of the same names.
const (
	RoleMember     = "member"
	RoleOwner      = "owner"
	RoleManager    = "manager"
	RoleCashier    = "cashier"
	RoleSuperadmin = "superadmin"
	RoleModerator  = "moderator"
	RoleSupport    = "support"
	RoleConcierge  = "concierge"
)

// Account is a demo identity that anyone can sign in as in demo mode.
type Account struct {
	// TelegramID is the account's Telegram user ID; demo IDs lie in a range
	// real Telegram users do not have (9 100 000 001 and up).
	TelegramID int64
	// FirstName, LastName and Username are what Telegram would report.
	FirstName, LastName, Username string
	// Language is the Telegram language code the account registers with.
	Language string
	// Role is RoleMember or one of the staff roles.
	Role string
	// Partner is the slug of the partner a partner-staff account works for,
	// and "" for members and platform staff.
	Partner string
	// Note says in one short Russian line what signing in as the account shows.
	Note string
}

// Slugs of the demo partners.
const (
	PartnerRestaurant = "zhetysu-dastarkhan"
	PartnerDental     = "ak-tis-dental"
	PartnerAuto       = "barys-auto"
	PartnerSpa        = "ordabasy-spa"
)

// Accounts lists the demo accounts in the order the sign-in page shows them:
// members first, then partner staff, then platform staff.
var Accounts = []Account{
	{TelegramID: 9_100_000_001, FirstName: "Айгерим", LastName: "Садыкова", Username: "aigerim_sadykova", Language: "ru",
		Role: RoleMember, Note: "Участница клуба: подборка по интересам, бонусы и уведомления"},
	{TelegramID: 9_100_000_002, FirstName: "Дмитрий", LastName: "Ковалёв", Username: "d_kovalev", Language: "ru",
		Role: RoleMember, Note: "Участник со статусом Silver: ему открыт закрытый ужин от шефа"},
	{TelegramID: 9_100_000_003, FirstName: "Arman", LastName: "Nurlanov", Username: "arman_nurlanov", Language: "en",
		Role: RoleMember, Note: "Участник с английским интерфейсом"},

	{TelegramID: 9_100_000_011, FirstName: "Ерлан", LastName: "Тулегенов", Username: "erlan_tulegenov", Language: "ru",
		Role: RoleOwner, Partner: PartnerRestaurant, Note: "Владелец ресторана «Жетісу Дастарқан»: предложения, сотрудники, аналитика"},
	{TelegramID: 9_100_000_012, FirstName: "Мария", LastName: "Ким", Username: "maria_kim_alm", Language: "ru",
		Role: RoleManager, Partner: PartnerRestaurant, Note: "Менеджер ресторана «Жетісу Дастарқан»: предложения и брони"},
	{TelegramID: 9_100_000_013, FirstName: "Данияр", LastName: "Абенов", Username: "daniyar_abenov", Language: "ru",
		Role: RoleCashier, Partner: PartnerRestaurant, Note: "Кассир ресторана «Жетісу Дастарқан»: поиск брони по коду"},
	{TelegramID: 9_100_000_021, FirstName: "Гульнара", LastName: "Есенова", Username: "gulnara_esenova", Language: "ru",
		Role: RoleOwner, Partner: PartnerDental, Note: "Владелец стоматологии «Ақ Тіс Дентал» в Астане"},

	{TelegramID: 9_100_000_091, FirstName: "Нурлан", LastName: "Бекмуханов", Username: "nurlan_bek", Language: "ru",
		Role: RoleSuperadmin, Note: "Суперадминистратор платформы: весь бэк-офис"},
	{TelegramID: 9_100_000_092, FirstName: "Анна", LastName: "Петренко", Username: "anna_petrenko", Language: "ru",
		Role: RoleModerator, Note: "Модератор: проверка предложений партнёров"},
	{TelegramID: 9_100_000_093, FirstName: "Асель", LastName: "Жумабаева", Username: "asel_zhumabaeva", Language: "ru",
		Role: RoleSupport, Note: "Служба заботы: обращения и претензии участников"},
	{TelegramID: 9_100_000_094, FirstName: "Тимур", LastName: "Ахметов", Username: "timur_akhmetov", Language: "ru",
		Role: RoleConcierge, Note: "Персональный менеджер: бронирует за участников"},
}

// Find returns the demo account with the Telegram ID, if there is one.
func Find(telegramID int64) (Account, bool) {
	for _, a := range Accounts {
		if a.TelegramID == telegramID {
			return a, true
		}
	}
	return Account{}, false
}
