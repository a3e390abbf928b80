package bot

// staffRoutes are partner staff's commands and buttons.
func (b *Bot) staffRoutes() {}
