"""/pin: a safe PIN and a different duress PIN, typed at check-out when the organisation turns PINs on."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from bot.context import BotContext
from bot.flows.common import is_worker, reply
from bot.flows.router import Flow
from bot.i18n import N_, tr
from bot.services.alerts import pin_text, set_pins, valid_pin

SAFE, DURESS = "pin:safe", "pin:duress"
END = ConversationHandler.END
PIN_EXAMPLE = N_("A PIN is 4 to 8 digits, like 4821.")
CHOOSING_TIMEOUT = timedelta(minutes=10)


async def forget_message(update: Update) -> None:
    """PINs do not stay on the screen: delete the message that carried one."""
    if update.message is not None:
        try:
            await update.message.delete()
        except TelegramError:
            pass  # already gone, or too old: nothing more to do


async def start(update: Update, context: BotContext) -> str | int:
    """Ask for the safe PIN."""
    if not context.config.checkout_pin:
        await reply(update, tr(context.locale, "Your organisation does not use check-out PINs."))
        return END
    if not is_worker(context):
        await reply(update, tr(context.locale, "This is for outreach workers."))
        return END
    await reply(update, tr(context.locale, "Choose your normal PIN: 4 to 8 digits. You type it at every check-out."))
    return SAFE


async def safe_typed(update: Update, context: BotContext) -> str:
    """The safe PIN."""
    assert update.message is not None
    pin = pin_text(update.message.text or "")
    await forget_message(update)
    if not valid_pin(pin):
        await reply(update, tr(context.locale, PIN_EXAMPLE))
        return SAFE
    context.drafts["pin"] = pin
    await reply(
        update,
        tr(
            context.locale,
            "Now choose a second, different PIN for danger. If you type it at "
            "check-out, everything looks normal, but your supervisor is alerted.",
        ),
    )
    return DURESS


async def duress_typed(update: Update, context: BotContext) -> str | int:
    """The duress PIN: must differ from the safe one."""
    assert update.message is not None and context.person is not None
    pin = pin_text(update.message.text or "")
    await forget_message(update)
    if not valid_pin(pin):
        await reply(update, tr(context.locale, PIN_EXAMPLE))
        return DURESS
    safe = context.drafts.get("pin")
    if safe is None:
        return await start(update, context)
    if pin == safe:
        await reply(update, tr(context.locale, "The two PINs must be different. Choose another one."))
        return DURESS
    context.drafts.pop("pin", None)
    await set_pins(context.storage, context.person, safe, pin, context.clock.now())
    await reply(update, tr(context.locale, "Your PINs are saved. Remember them; they are not shown again."))
    return END


async def cancel(update: Update, context: BotContext) -> int:
    context.drafts.pop("pin", None)
    await reply(update, tr(context.locale, "Cancelled. Nothing was saved."))
    return END


def handler() -> Flow:
    text = filters.TEXT & ~filters.COMMAND
    return Flow(
        entry_points=[CommandHandler("pin", start)],
        states={SAFE: [MessageHandler(text, safe_typed)], DURESS: [MessageHandler(text, duress_typed)]},
        fallbacks=[CommandHandler("cancel", cancel), CommandHandler("pin", start)],
        name="pin",
        timeout=CHOOSING_TIMEOUT,
    )
