from negclass.mail import message
from negclass.mail.message import Message


def test_address_is_the_lower_cased_email_of_the_sender():
    assert Message(id="a", source="s", sender="Jane Doe <Jane.Doe@Example.com>").address == "jane.doe@example.com"
    assert Message(id="a", source="s", sender="jane.doe@example.com").address == "jane.doe@example.com"
    assert Message(id="a", source="s").address is None


def test_a_message_too_large_to_read_is_an_error_row_not_text():
    msg = message.too_large("<id@x>", "box.mbox", message.MAX_MESSAGE_BYTES + 1)
    assert msg.id == "<id@x>" and msg.source == "box.mbox"
    assert msg.text is None and msg.error
