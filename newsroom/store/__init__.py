"""What newsroom keeps between runs: the state file (:mod:`.state`: editions and their
items, subscribers, the delivery log, model answers, approvals) and the locks in it
(:mod:`.locks`)."""
