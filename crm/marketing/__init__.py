"""Marketing analytics on plain pandas frames: RFM, lifetime value, promotion targeting, uplift.

No Django here: ``crm.services.segments`` and ``crm.services.promotions`` turn rows into frames,
call these functions and store what they return.
"""
