-- Default settings of a new mirror: the stage map of the existing ERP pipeline
-- (reference/stage-map.md), its priority map, and the two sync_config rows of the
-- Supabase setup. Users change them with `odoosync config`.

INSERT INTO stage_map (odoo_stage, stage) VALUES
    ('new', 'new'),
    ('telephonic enquiries', 'telephonic_enquiries'),
    ('qualified', 'qualified'),
    ('rfi', 'rfi'),
    ('addendums', 'addendums'),
    ('estimation-ben', 'estimation_ben'),
    ('estimation-karthick(mavericks)', 'estimation_karthick'),
    ('qc - ben', 'qc_ben'),
    ('hot enquiries', 'hot_enquiries'),
    ('quotation priority', 'quotation_priority'),
    ('quotation bids', 'quotation_bids'),
    ('shop drawing', 'shop_drawing'),
    ('shop drawing sent for approval', 'shop_drawing_approval'),
    ('fabrication in shop', 'shop_drawing'),
    ('delivered/pickup done', 'won'),
    ('ready to dispatch/pickup', 'won'),
    ('won', 'won'),
    ('loss', 'lost'),
    ('merged', 'lost'),
    ('no rebars(our of scope)', 'lost'),
    -- spelling variants seen in the ERP's older sync code
    ('telephonic', 'telephonic_enquiries'),
    ('estimation - ben', 'estimation_ben'),
    ('estimation ben', 'estimation_ben'),
    ('estimation - karthick', 'estimation_karthick'),
    ('estimation karthick', 'estimation_karthick'),
    ('estimation-karthick', 'estimation_karthick'),
    ('qc ben', 'qc_ben'),
    ('hot', 'hot_enquiries'),
    ('quotation', 'quotation_bids'),
    ('shop drawing approval', 'shop_drawing_approval'),
    ('lost', 'lost'),
    ('proposal', 'proposal');

INSERT INTO priority_map (odoo_priority, priority) VALUES
    ('3', 'high'), ('2', 'high'), ('1', 'medium'), ('0', 'low');

INSERT INTO sync_config (id, plane_type, odoo_model, field_mappings, created_at, updated_at) VALUES
    (lower(printf('%s-%s-4%s-a%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
                  substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
     'issue', 'project.task',
     '{"name":"name","description":"description","priority":"priority","state":"stage_id"}',
     strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    (lower(printf('%s-%s-4%s-a%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
                  substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
     'project', 'project.project',
     '{"name":"name","description":"description"}',
     strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

INSERT INTO settings (key, value) VALUES
    ('pull.overlap_seconds', '300'),
    ('pull.page_size', '1000'),
    ('leads.company_id', '');
