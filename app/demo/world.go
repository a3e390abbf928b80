package demo

import (
	"image/color"

	"ikra/app/loyalty"
)

// What the demo world holds. Seed turns these definitions into rows.

type categoryDef struct {
	slug, nameRU, nameEN, nameKK, icon string
	sort                               int
	color                              color.NRGBA // main colour of the category's pictures
}

var categories = []categoryDef{
	{"restaurants", "Рестораны", "Restaurants", "Мейрамханалар", "🍽️", 10, color.NRGBA{0xD9, 0x5D, 0x39, 0xFF}},
	{"beauty", "Красота", "Beauty", "Сұлулық", "💅", 20, color.NRGBA{0xD1, 0x4D, 0x8A, 0xFF}},
	{"health", "Здоровье", "Health", "Денсаулық", "🩺", 30, color.NRGBA{0x1F, 0x9E, 0x98, 0xFF}},
	{"auto", "Авто", "Auto", "Авто", "🚗", 40, color.NRGBA{0x3D, 0x5A, 0x80, 0xFF}},
	{"hotels", "Отели", "Hotels", "Қонақүйлер", "🏨", 50, color.NRGBA{0x4B, 0x4E, 0xC6, 0xFF}},
	{"sport", "Спорт", "Sport", "Спорт", "🏋️", 60, color.NRGBA{0x2E, 0x9B, 0x4F, 0xFF}},
	{"education", "Образование", "Education", "Білім", "🎓", 70, color.NRGBA{0xE0, 0x9F, 0x1F, 0xFF}},
	{"events", "События", "Events", "Іс-шаралар", "🎫", 80, color.NRGBA{0x7B, 0x3F, 0xB5, 0xFF}},
}

type cityDef struct{ slug, nameRU, nameEN, nameKK string }

var cities = []cityDef{
	{"almaty", "Алматы", "Almaty", "Алматы"},
	{"astana", "Астана", "Astana", "Астана"},
	{"shymkent", "Шымкент", "Shymkent", "Шымкент"},
}

// Offer statuses used by the definitions (the values of the ent enum).
const (
	statusDraft     = "draft"
	statusPending   = "pending"
	statusPublished = "published"
)

type offerDef struct {
	title, summary, description, terms string
	kind                               string   // discount, service or event
	category                           string   // category slug; "" = the partner's
	tags                               []string // of the offer's category (app/tags)
	status                             string
	addresses                          []string
	// The validity window, in days from the seeding moment.
	fromDays, untilDays int
	// How many days ago a published offer was published.
	publishedDaysAgo int
	capacity         int
	perMember        int
	cashbackBP       int
	priceBonus       int64
	minTier          string // tier slug; "" = open to every status
	images           int    // pictures of a published offer, 1 or 2
}

type partnerDef struct {
	slug, name  string
	binPrefix   string // eleven digits; MakeBIN appends the check digit
	category    string
	city        string
	description string
	offers      []offerDef
}

var partnerDefs = []partnerDef{
	{
		slug:      PartnerRestaurant,
		name:      "Жетісу Дастарқан",
		binPrefix: "15034001274",
		category:  "restaurants",
		city:      "almaty",
		description: "Ресторан казахской и среднеазиатской кухни в центре Алматы: бешбармак по-домашнему, " +
			"мясо на углях, собственная пекарня баурсаков и летняя терраса с видом на горы.",
		offers: []offerDef{
			{
				title:   "Скидка 20% на бизнес-ланч в будни",
				tags:    []string{"national_cuisine", "family"},
				summary: "Обед из трёх блюд со скидкой 20% с понедельника по пятницу, с 12:00 до 16:00.",
				description: "Каждый будний день шеф собирает новый ланч: салат из сезонных овощей, суп на выбор — " +
					"сорпа, лагман или мастава — и горячее, от куырдака до плова. Участникам клуба — скидка 20% " +
					"на весь комплекс и чайник чая с чак-чаком на стол от заведения.",
				terms: "Скидка действует с понедельника по пятницу с 12:00 до 16:00, кроме праздничных дней. " +
					"Не суммируется с другими акциями ресторана. Код брони нужно назвать официанту до заказа.",
				kind: "discount", status: statusPublished,
				addresses: []string{"Алматы, пр. Достык, 85"},
				fromDays:  -20, untilDays: 70, publishedDaysAgo: 18,
				capacity: 300, perMember: 8, cashbackBP: 500, images: 2,
			},
			{
				title: "Ужин от шефа «Вкусы Великой степи»",
				tags:  []string{"festivals"},
				summary: "Сет из семи блюд кочевой кухни с рассказом шефа о каждом. " +
					"Только для участников со статусом Silver и выше.",
				description: "Закрытый вечер на 24 гостя. Шеф-повар проведёт по кухне Великой степи: от жента и курта " +
					"до казы собственного копчения и сорпы на костном бульоне. К каждому блюду — история о том, " +
					"как его готовили в ауле, и авторский напиток на травах Заилийского Алатау.",
				terms: "Начало в 19:00 в день, указанный в брони. Места ограничены, бронь подтверждает ресторан. " +
					"При отмене менее чем за 48 часов место передаётся следующему гостю из листа ожидания.",
				kind: "event", category: "events", status: statusPublished,
				addresses: []string{"Алматы, пр. Достык, 85, зал «Шанырак»"},
				fromDays:  -5, untilDays: 12, publishedDaysAgo: 4,
				capacity: 24, perMember: 2, cashbackBP: 300, minTier: loyalty.TierSilver, images: 2,
			},
			{
				title:   "Семейный той под ключ: торт и оформление зала в подарок",
				tags:    []string{"national_cuisine", "family"},
				summary: "Для праздника от 20 гостей — торт нашей пекарни и оформление зала без доплаты.",
				description: "Свадьба, юбилей или тусау кесер — возьмём на себя меню, обслуживание и оформление. " +
					"Участникам клуба дарим торт на всех гостей и украшение зала в национальном стиле.",
				terms: "Предложение для банкетов от 20 гостей при внесении предоплаты за 14 дней до даты. " +
					"Меню согласуется с менеджером ресторана.",
				kind: "service", status: statusDraft,
				addresses: []string{"Алматы, пр. Достык, 85"},
				fromDays:  7, untilDays: 120,
				capacity: 10, perMember: 1, cashbackBP: 400,
			},
		},
	},
	{
		slug:      PartnerDental,
		name:      "Ақ Тіс Дентал",
		binPrefix: "18114002597",
		category:  "health",
		city:      "astana",
		description: "Семейная стоматологическая клиника в Астане: терапия, ортодонтия, имплантация и детский приём. " +
			"Два филиала, цифровая диагностика и приём точно по записи.",
		offers: []offerDef{
			{
				title:   "Профессиональная гигиена полости рта со скидкой 30%",
				tags:    []string{"dental"},
				summary: "Ультразвуковая чистка, Air Flow и полировка с фторированием за один визит.",
				description: "Гигиенист снимет зубной камень и налёт ультразвуком, очистит межзубные промежутки " +
					"методом Air Flow, отполирует эмаль и покроет её фторсодержащим лаком. В конце — подбор щётки " +
					"и ирригатора под ваши зубы. Процедура занимает около часа.",
				terms: "Скидка на одну процедуру. Перед чисткой врач проводит осмотр; при противопоказаниях процедура " +
					"переносится. Запись обязательна, опоздание более 15 минут переносит визит.",
				kind: "service", status: statusPublished,
				addresses: []string{"Астана, ул. Кенесары, 40", "Астана, пр. Туран, 19/1"},
				fromDays:  -30, untilDays: 60, publishedDaysAgo: 28,
				capacity: 80, perMember: 1, cashbackBP: 700, images: 1,
			},
			{
				title:   "Консультация ортодонта с 3D-снимком за бонусы",
				tags:    []string{"dental", "checkup"},
				summary: "Осмотр, компьютерная томография и план лечения брекетами или элайнерами — оплата бонусами.",
				description: "Ортодонт оценит прикус, сделает 3D-снимок челюстей и покажет на модели, как изменится " +
					"улыбка. Вы получите письменный план лечения с этапами и сроками и сможете обсудить его " +
					"с врачом без спешки.",
				terms: "Оплачивается бонусами при бронировании. Подходит взрослым и детям старше 12 лет. " +
					"Снимок и план лечения выдаются на руки.",
				kind: "service", status: statusPublished,
				addresses: []string{"Астана, ул. Кенесары, 40"},
				fromDays:  -12, untilDays: 80, publishedDaysAgo: 11,
				capacity: 40, perMember: 1, cashbackBP: 300, priceBonus: 5000, images: 1,
			},
			{
				title:   "Скидка 25% на отбеливание зубов",
				tags:    []string{"dental"},
				summary: "Кабинетное отбеливание на четыре-восемь тонов за один визит.",
				description: "Отбеливание по системе с холодным светом: без перегрева эмали и с защитой дёсен. " +
					"После процедуры — набор для домашнего ухода и контрольный осмотр через две недели.",
				terms: "Перед отбеливанием обязательна профессиональная гигиена. Не проводится беременным " +
					"и при повышенной чувствительности зубов.",
				kind: "discount", status: statusPending,
				addresses: []string{"Астана, пр. Туран, 19/1"},
				fromDays:  3, untilDays: 93,
				capacity: 50, perMember: 1, cashbackBP: 600,
			},
		},
	},
	{
		slug:      PartnerAuto,
		name:      "Барыс Авто",
		binPrefix: "12064001835",
		category:  "auto",
		city:      "almaty",
		description: "Автосервис полного цикла в Алматы: компьютерная диагностика, ремонт ходовой и двигателя, " +
			"шиномонтаж и детейлинг. Обслуживаем японские, корейские и европейские марки.",
		offers: []offerDef{
			{
				title:   "Бесплатная диагностика при замене масла",
				tags:    []string{"service"},
				summary: "Меняете масло у нас — проверяем автомобиль по 40 пунктам бесплатно.",
				description: "Пока меняется масло и фильтры, мастер поднимет машину на подъёмник, проверит подвеску, " +
					"тормоза, рулевое управление и течи, подключит сканер к электронике. Результаты — отчётом " +
					"с фотографиями в день визита.",
				terms: "Диагностика бесплатна при замене моторного масла в нашем сервисе. Масло можно привезти своё. " +
					"Запись на удобное время, визит около полутора часов.",
				kind: "service", status: statusPublished,
				addresses: []string{"Алматы, ул. Рыскулова, 103Б"},
				fromDays:  -15, untilDays: 75, publishedDaysAgo: 14,
				capacity: 120, perMember: 2, cashbackBP: 800, images: 2,
			},
			{
				title:   "Скидка 15% на шиномонтаж и балансировку",
				tags:    []string{"tyres", "service"},
				summary: "Сезонная переобувка со скидкой 15%: снятие, монтаж, балансировка и мойка колёс.",
				description: "Переобуем автомобиль за 40 минут: снимем колёса, вымоем, смонтируем шины, " +
					"отбалансируем на стенде и подтянем динамометрическим ключом. Легковые автомобили " +
					"и кроссоверы с дисками до 20 дюймов.",
				terms: "Скидка на работы, не на шины и расходные материалы. Действует для одного автомобиля " +
					"в одно посещение. Хранение шин оплачивается отдельно.",
				kind: "discount", status: statusPublished,
				addresses: []string{"Алматы, ул. Рыскулова, 103Б"},
				fromDays:  -8, untilDays: 45, publishedDaysAgo: 7,
				capacity: 200, perMember: 2, cashbackBP: 1000, images: 1,
			},
		},
	},
	{
		slug:      PartnerSpa,
		name:      "Ордабасы Спа Отель",
		binPrefix: "19074003116",
		category:  "hotels",
		city:      "shymkent",
		description: "Загородный спа-отель у Шымкента: сорок номеров, термальный комплекс с хаммамом и соляной " +
			"пещерой, открытый бассейн и ресторан южной кухни.",
		offers: []offerDef{
			{
				title:   "Ночь в номере «Делюкс» с завтраком и спа",
				tags:    []string{"city_hotel"},
				summary: "Проживание для двоих, завтрак и безлимитный доступ в термальный комплекс — за бонусы.",
				description: "Просторный номер с видом на сад, поздний выезд до 14:00, завтрак с самсой из тандыра " +
					"и южными фруктами. Весь день открыты хаммам, финская сауна, соляная пещера и бассейн.",
				terms: "Оплачивается бонусами при бронировании. Заезд с 14:00, выезд до 14:00. " +
					"Дата проживания подтверждается отелем по наличию мест.",
				kind: "service", status: statusPublished,
				addresses: []string{"Шымкент, пр. Тауке хана, 27"},
				fromDays:  -25, untilDays: 90, publishedDaysAgo: 22,
				capacity: 30, perMember: 1, cashbackBP: 600, priceBonus: 30000, images: 2,
			},
			{
				title:   "Спа-ритуал «Шёлковый путь» для двоих",
				tags:    []string{"spa"},
				summary: "Два часа в хаммаме, пилинг, массаж с маслами и чайная церемония.",
				description: "Ритуал по мотивам караванных бань: прогрев на тёплом камне, пилинг кесе, пенный массаж, " +
					"расслабляющий массаж всего тела с маслом абрикоса и чай с восточными сладостями в комнате отдыха.",
				terms: "Сеанс для двоих гостей старше 18 лет, длительность — 120 минут. " +
					"Запись не позднее чем за сутки.",
				kind: "service", category: "beauty", status: statusPublished,
				addresses: []string{"Шымкент, пр. Тауке хана, 27, спа-комплекс"},
				fromDays:  -10, untilDays: 60, publishedDaysAgo: 9,
				capacity: 40, perMember: 1, cashbackBP: 900, images: 1,
			},
			{
				title:   "Вечер восточной музыки у бассейна",
				tags:    []string{"concerts"},
				summary: "Живые домбра и кобыз, ужин на открытом воздухе и звёздное небо над садом.",
				description: "Ансамбль народных инструментов сыграет кюи и современные аранжировки, а ресторан отеля " +
					"накроет ужин у бассейна: шашлык, лепёшки из тандыра и южные салаты. Пледы и горячий чай — " +
					"для тех, кто останется до ночи.",
				terms: "Начало в 20:00. Вход по брони, в неё входит ужин. Дети до 12 лет — бесплатно в сопровождении взрослых.",
				kind:  "event", category: "events", status: statusPublished,
				addresses: []string{"Шымкент, пр. Тауке хана, 27"},
				fromDays:  -2, untilDays: 20, publishedDaysAgo: 1,
				capacity: 80, perMember: 2, cashbackBP: 400, images: 1,
			},
		},
	},
}

// memberProfiles says what each plain demo member declares and holds.
var memberProfiles = map[int64]struct {
	interests []string // category slugs
	tags      []string // finer interests (app/tags)
	tier      string   // bought tier slug, "" for none
}{
	9_100_000_001: {interests: []string{"restaurants", "beauty", "hotels"}, tags: []string{"national_cuisine", "spa"}},
	9_100_000_002: {interests: []string{"auto", "sport", "restaurants", "events"}, tags: []string{"tyres"}, tier: loyalty.TierSilver},
	9_100_000_003: {interests: []string{"events", "hotels", "health"}, tags: []string{"concerts", "dental"}},
}

// welcomeNotes are the notifications waiting for the first demo member.
var welcomeNotes = []struct {
	key, title, body, link string
	minutesAgo             int
	read                   bool
}{
	{"hello", "Добро пожаловать в IKRA",
		"Вы в закрытом клубе привилегий: выбирайте предложения партнёров, бронируйте и получайте бонусы за каждую сделку.",
		"/app", 90, true},
	{"interests", "Подборка по вашим интересам",
		"Мы собрали предложения ресторанов, салонов красоты и отелей, которые вы отметили. Загляните в каталог.",
		"/app", 60, false},
	{"bonuses", "Как работают бонусы",
		"За завершённые сделки у партнёров начисляется кешбэк бонусами. Бонусы нельзя вывести, но можно оплатить ими привилегии и статус.",
		"/app", 30, false},
}
