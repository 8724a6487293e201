"""Delivering the email edition: one message per subscriber (:mod:`.messages`), the send
engine and its log (:mod:`.sending`), ``send`` as the commands run it (:mod:`.delivery`), the
list (:mod:`.subscribers`), the signed links (:mod:`.tokens`) and approvals
(:mod:`.approvals`)."""
